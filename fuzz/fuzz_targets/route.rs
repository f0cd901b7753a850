//! Route patterns and the route table: `Pattern::parse` on any string, `Pattern::matches` on
//! any path, and a `RouteTable` of a few chosen patterns answering `lookup` and `matches`.
//!
//! Input: lines. Byte 0 of the input picks methods; then every line up to an empty one is a
//! pattern (its first byte picks the methods it is registered for), and every later line is
//! a request path (its first byte picks the request method).
//!
//! Invariants:
//! - `Pattern::parse` never panics; a parsed pattern's `as_str()` parses to an equal pattern
//!   with the same names, exactness and relation (`Same`) to the first;
//! - an exact pattern matches the path it spells (`{$}` dropped), and any path it matches has
//!   the same decoded segments as the pattern's literals;
//! - captures decode without panic, one per name, in order, each `raw` value decoding to its
//!   value; a `{name}` capture is a non-empty segment;
//! - `relation` is antisymmetric (`a.relation(b) == b.relation(a).reverse()`) and agrees with
//!   matching on every path tried;
//! - the table: `lookup` gives `Found` with a pattern that matches the path with the same
//!   captures and is the first of `matches()`; `MethodNotAllowed` with a sorted, non-empty,
//!   duplicate-free list when patterns match the path but none takes the method; `NotFound`
//!   when no pattern matches; `matches()` lists exactly the matching patterns that take the
//!   method, never a less specific one before a more specific one.

#![no_main]

use http_server::{Lookup, Methods, Pattern, Relation, RouteTable};
use http_utils::{percent_decode_bytes, Method};
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 4] = [Method::Get, Method::Head, Method::Post, Method::Delete];

fn methods_for(b: u8) -> Methods {
    if b & 0x0f == 0 {
        return Methods::Any;
    }
    Methods::Only(
        METHODS.iter().enumerate().filter(|(i, _)| b & (1 << i) != 0).map(|(_, m)| m.clone()).collect(),
    )
}

fn decode(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(s.as_bytes())).into_owned()
}

/// The decoded segments an exact pattern's source spells, `{$}` standing for the empty last one.
fn exact_segments(source: &str) -> Vec<String> {
    source[1..].split('/').map(|s| if s == "{$}" { String::new() } else { decode(s) }).collect()
}

fn check_pattern(p: &Pattern) {
    let again = Pattern::parse(p.as_str()).expect("as_str re-parses");
    assert_eq!(&again, p);
    assert_eq!(again.as_str(), p.as_str());
    assert_eq!(again.names().collect::<Vec<_>>(), p.names().collect::<Vec<_>>());
    assert_eq!(again.is_exact(), p.is_exact());
    assert_eq!(p.relation(&again), Relation::Same, "{p}");
    assert_eq!(p.to_string(), p.as_str());
    assert_eq!(p.is_exact(), p.names().next().is_none());
    if p.is_exact() {
        let own = p.as_str().strip_suffix("{$}").unwrap_or(p.as_str());
        assert!(p.matches(own).is_some_and(|c| c.is_empty()), "{p} does not match {own:?}");
    }
}

fn check_match(p: &Pattern, path: &str) -> bool {
    let Some(c) = p.matches(path) else { return false };
    assert!(path.starts_with('/'));
    let names: Vec<&str> = p.names().collect();
    let got: Vec<(&str, &str)> = c.iter().collect();
    assert_eq!(got.len(), names.len(), "{p} on {path:?}");
    assert_eq!(c.len(), names.len());
    for ((n, v), want) in got.iter().zip(&names) {
        assert_eq!(n, want);
        assert_eq!(c.get(n), Some(*v));
        let raw = c.raw(n).expect("raw value");
        assert_eq!(*v, decode_capture(raw), "{p} on {path:?}: {n}");
        assert!(path.contains(raw));
    }
    if p.is_exact() {
        let path_segments: Vec<String> = path[1..].split('/').map(decode).collect();
        assert_eq!(path_segments, exact_segments(p.as_str()), "{p} matched {path:?}");
    }
    true
}

/// A capture's value from its raw text: each segment decoded on its own, `/` between them.
fn decode_capture(raw: &str) -> String {
    raw.split('/').map(decode).collect::<Vec<_>>().join("/")
}

fn check_relation(a: &Pattern, b: &Pattern, paths: &[(Method, &str)]) {
    let rel = a.relation(b);
    assert_eq!(b.relation(a), rel.reverse(), "{a} vs {b}");
    for (_, path) in paths {
        let (ma, mb) = (a.matches(path).is_some(), b.matches(path).is_some());
        match rel {
            Relation::Disjoint => assert!(!(ma && mb), "{a} and {b} both match {path:?}"),
            Relation::Same => assert_eq!(ma, mb, "{a} same as {b} on {path:?}"),
            Relation::MoreSpecific => assert!(!ma || mb, "{a} inside {b} but {path:?}"),
            Relation::LessSpecific => assert!(!mb || ma, "{b} inside {a} but {path:?}"),
            Relation::Overlapping => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let mut patterns: Vec<(Pattern, Methods)> = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty() || patterns.len() >= 8 {
            break;
        }
        let mut chars = line.chars();
        let m = chars.next().map_or(0, |c| c as u32 as u8);
        let source = chars.as_str();
        match Pattern::parse(source) {
            Ok(p) => {
                check_pattern(&p);
                patterns.push((p, methods_for(m)));
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert!(source.parse::<Pattern>().is_err());
            }
        }
    }
    let paths: Vec<(Method, &str)> = lines
        .take(8)
        .map(|l| {
            let mut chars = l.chars();
            let m = chars.next().map_or(0, |c| c as u32 as usize);
            (METHODS[m % METHODS.len()].clone(), chars.as_str())
        })
        .collect();
    for (p, _) in &patterns {
        for (_, path) in &paths {
            check_match(p, path);
        }
    }
    for (a, _) in &patterns {
        for (b, _) in &patterns {
            check_relation(a, b, &paths);
        }
    }

    let mut table = RouteTable::new();
    let mut registered: Vec<usize> = Vec::new();
    for (i, (p, m)) in patterns.iter().enumerate() {
        if table.insert(p.clone(), m.clone(), i).is_ok() {
            registered.push(i);
        }
    }
    assert_eq!(table.len(), table.patterns().count());
    for (method, path) in &paths {
        // What a brute-force scan says.
        let matching: Vec<&Pattern> = table.patterns().filter(|p| p.matches(path).is_some()).collect();
        let routes: Vec<_> = table.matches(method, path).collect();
        for r in &routes {
            assert_eq!(r.pattern.matches(path), Some(r.captures.clone()), "{} on {path:?}", r.pattern);
            assert_eq!(table.get(r.pattern, method), Some(r.value));
        }
        let wanted = matching.iter().filter(|p| table.get(p, method).is_some()).count();
        assert_eq!(routes.len(), wanted, "{method} {path:?}");
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                assert_ne!(
                    a.pattern.relation(b.pattern),
                    Relation::LessSpecific,
                    "{} listed before {} for {path:?}",
                    a.pattern,
                    b.pattern
                );
            }
        }
        match table.lookup(method, path) {
            Lookup::Found(route) => {
                assert_eq!(route.pattern.matches(path), Some(route.captures.clone()));
                let first = routes.first().expect("found, yet matches() is empty");
                assert_eq!(first.value, route.value, "lookup and matches() disagree on {path:?}");
                // Nothing that takes the method is strictly more specific.
                for r in &routes {
                    assert_ne!(route.pattern.relation(r.pattern), Relation::LessSpecific);
                }
            }
            Lookup::MethodNotAllowed(allow) => {
                assert!(!allow.is_empty(), "empty Allow list for {path:?}");
                assert!(routes.is_empty() && !matching.is_empty());
                let names: Vec<&str> = allow.iter().map(Method::as_str).collect();
                let mut sorted = names.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(names, sorted, "Allow list not sorted or repeated");
                assert!(!allow.contains(method), "{method} refused but allowed");
                if allow.contains(&Method::Get) {
                    assert!(allow.contains(&Method::Head));
                }
                assert_eq!(table.allowed_methods(path), Some(allow));
            }
            Lookup::NotFound => {
                assert!(matching.is_empty(), "NotFound but {} matches {path:?}", matching[0]);
                assert_eq!(table.allowed_methods(path), Some(Vec::new()));
            }
        }
    }
    let _ = registered;
});
