use super::*;

fn p(s: &str) -> Pattern {
    Pattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn parse_errors() {
    let table = [
        ("", PatternError::NotAbsolute),
        ("hello", PatternError::NotAbsolute),
        ("{x}/a", PatternError::NotAbsolute),
        ("/a//b", PatternError::EmptySegment),
        ("//", PatternError::EmptySegment),
        ("/a b", PatternError::InvalidCharacter),
        ("/a?b", PatternError::InvalidCharacter),
        ("/a#b", PatternError::InvalidCharacter),
        ("/a\nb", PatternError::InvalidCharacter),
        ("/{}", PatternError::EmptyName),
        ("/{...}", PatternError::EmptyName),
        ("/{1x}", PatternError::InvalidName("1x".into())),
        ("/{a-b}", PatternError::InvalidName("a-b".into())),
        ("/{$...}", PatternError::InvalidName("$".into())),
        ("/{é}", PatternError::InvalidName("é".into())),
        ("/{x}/{x}", PatternError::DuplicateName("x".into())),
        ("/{x}/{x...}", PatternError::DuplicateName("x".into())),
        ("/{p...}/a", PatternError::RestNotLast),
        ("/{p...}/", PatternError::RestNotLast),
        ("/{$}/a", PatternError::EndNotLast),
        ("/a{b}", PatternError::PartialWildcard),
        ("/{a}b", PatternError::PartialWildcard),
        ("/{a{b}}", PatternError::PartialWildcard),
        ("/a}", PatternError::PartialWildcard),
        ("/{a", PatternError::PartialWildcard),
        ("/a/../b", PatternError::DotSegment),
        ("/./b", PatternError::DotSegment),
        ("/%2e%2E", PatternError::DotSegment),
    ];
    for (src, want) in table {
        assert_eq!(Pattern::parse(src).unwrap_err(), want, "{src:?}");
        assert!(!want.to_string().is_empty());
    }
}

#[test]
fn parses() {
    let x = p("/hello/{name}");
    assert_eq!(x.as_str(), "/hello/{name}");
    assert_eq!(x.to_string(), "/hello/{name}");
    assert_eq!(x.names().collect::<Vec<_>>(), ["name"]);
    assert!(!x.is_exact());
    assert!(p("/a/b/").is_exact());
    assert!(p("/").is_exact());
    assert!(p("/a/{$}").is_exact());
    assert_eq!(p("/a/{$}").exact_key(), p("/a/").exact_key());
    assert_eq!(p("/{_x1}/{Y...}").names().collect::<Vec<_>>(), ["_x1", "Y"]);
    assert_eq!(p("/a%2Fb").exact_key().as_deref(), Some("/a%2Fb"));
    assert_eq!(p("/100%25").exact_key().as_deref(), Some("/100%25"));
    assert_eq!(p("/100%").exact_key().as_deref(), Some("/100%25"));
    assert_eq!(p("/caf%C3%A9").exact_key().as_deref(), Some("/café"));
    assert_eq!("/x".parse::<Pattern>().unwrap(), p("/x"));
    assert_eq!(Pattern::try_from("/x").unwrap().literal_prefix_key().as_deref(), Some("x"));
    assert_eq!(p("/a%2Fb/{x}").literal_prefix_key().as_deref(), Some("a%2Fb"));
    assert_eq!(p("/{x}/a").literal_prefix_key(), None);
}

#[test]
fn matching_table() {
    // (pattern, path, captures or None)
    type Case<'a> = (&'a str, &'a str, Option<&'a [(&'a str, &'a str)]>);
    let table: &[Case] = &[
        ("/", "/", Some(&[])),
        ("/", "/a", None),
        ("/", "", None),
        ("/", "*", None),
        ("/a", "/a", Some(&[])),
        ("/a", "/a/", None),
        ("/a/", "/a/", Some(&[])),
        ("/a/", "/a", None),
        ("/a/", "/a/b", None),
        ("/a/{$}", "/a/", Some(&[])),
        ("/a/{$}", "/a/b", None),
        ("/{$}", "/", Some(&[])),
        ("/abc", "/a%62c", Some(&[])),
        ("/a%2Fb", "/a%2fb", Some(&[])),
        ("/a%2Fb", "/a/b", None),
        ("/a/b", "/a%2Fb", None),
        ("/caf%C3%A9", "/caf%c3%a9", Some(&[])),
        ("/hello/{name}", "/hello/bob", Some(&[("name", "bob")])),
        ("/hello/{name}", "/hello/b%20o%2Fb", Some(&[("name", "b o/b")])),
        ("/hello/{name}", "/hello/", None),
        ("/hello/{name}", "/hello", None),
        ("/hello/{name}", "/hello/a/", None),
        ("/{a}/{b}", "/x/y", Some(&[("a", "x"), ("b", "y")])),
        ("/{a}/{b}", "//y", None),
        ("/files/{p...}", "/files/a/b/c.txt", Some(&[("p", "a/b/c.txt")])),
        ("/files/{p...}", "/files/", Some(&[("p", "")])),
        ("/files/{p...}", "/files/a/", Some(&[("p", "a/")])),
        ("/files/{p...}", "/files//x", Some(&[("p", "/x")])),
        ("/files/{p...}", "/files/%2e%2e/x", Some(&[("p", "../x")])),
        ("/files/{p...}", "/files", None),
        ("/files/{p...}", "/filesx/a", None),
        ("/{p...}", "/", Some(&[("p", "")])),
        ("/{p...}", "/anything/at/all", Some(&[("p", "anything/at/all")])),
        ("/{id}/edit", "/7/edit", Some(&[("id", "7")])),
        ("/{id}/edit", "/7/edit/", None),
        ("/x/{v}", "/x/%ff", Some(&[("v", "\u{fffd}")])),
        ("/x/{v}", "/x/%zz", Some(&[("v", "%zz")])),
    ];
    for &(pattern, path, want) in table {
        let got = p(pattern).matches(path);
        let got: Option<Vec<(&str, &str)>> = got.as_ref().map(|c| c.iter().collect());
        assert_eq!(got.as_deref(), want, "{pattern} on {path:?}");
    }
    let c = p("/files/{p...}").matches("/files/a%2Fb/c").unwrap();
    assert_eq!((c.get("p"), c.raw("p"), c.len(), c.is_empty()), (Some("a/b/c"), Some("a%2Fb/c"), 1, false));
    assert!(p("/").matches("/").unwrap().is_empty());
}

#[test]
fn relations() {
    use Relation::*;
    let table = [
        ("/a", "/a", Same),
        ("/a", "/b", Disjoint),
        ("/a", "/a/", Disjoint),
        ("/a/", "/{x}/", MoreSpecific),
        ("/", "/{x}", Disjoint),
        ("/", "/{x...}", MoreSpecific),
        ("/a/", "/a/{x}", Disjoint),
        ("/a/", "/a/{x...}", MoreSpecific),
        ("/a", "/a/{x...}", Disjoint),
        ("/a/b", "/a/{x}", MoreSpecific),
        ("/a/{x}", "/a/b", LessSpecific),
        ("/a/{x}", "/a/{y}", Same),
        ("/a/{x}", "/{y}/b", Overlapping),
        ("/{x}/{y}", "/a/{z}", LessSpecific),
        ("/{x}/b", "/a/{z}", Overlapping),
        ("/a/{x}", "/a/{x...}", MoreSpecific),
        ("/a/{x...}", "/a/{y...}", Same),
        ("/a/{x...}", "/{y}/{z...}", MoreSpecific),
        ("/a/b/c", "/a/{x...}", MoreSpecific),
        ("/{x...}", "/a/{y}/c", LessSpecific),
        ("/{x}/{y...}", "/a/{z}", LessSpecific),
        ("/{x}/{y...}", "/a/b/{z}", LessSpecific),
        ("/{x}/{y}", "/a/{z...}", Overlapping),
        ("/{x}/c/{y...}", "/a/{z}/d", Overlapping),
        ("/a/{x}/c", "/b/{y...}", Disjoint),
        ("/a/{x}", "/a/{y}/c", Disjoint),
        ("/{x}", "/{y...}", MoreSpecific),
    ];
    for (a, b, want) in table {
        assert_eq!(p(a).relation(&p(b)), want, "{a} vs {b}");
        assert_eq!(p(b).relation(&p(a)), want.reverse(), "{b} vs {a}");
    }
    assert!(Same.conflicts() && Overlapping.conflicts());
    assert!(!MoreSpecific.conflicts() && !LessSpecific.conflicts() && !Disjoint.conflicts());
}

/// The relation agrees with matching on sample paths: a more specific pattern never
/// matches a path the other does not, disjoint patterns never both match.
#[test]
fn relations_agree_with_matching() {
    let patterns = [
        "/",
        "/a",
        "/a/",
        "/b",
        "/a/b",
        "/a/b/",
        "/{x}",
        "/{x}/",
        "/a/{x}",
        "/{x}/b",
        "/{x}/{y}",
        "/{x...}",
        "/a/{x...}",
        "/{x}/{y...}",
        "/a/b/{x...}",
        "/{x}/b/{y...}",
        "/a/{x}/c",
        "/{x}/{y}/",
        "/{x}/{y}/{z}",
    ];
    let paths = [
        "/", "/a", "/a/", "/b", "/b/", "/a/b", "/a/b/", "/a/c", "/c/b", "/a/b/c", "/a//", "//", "/x/y/z/w",
        "/a/b/c/", "/c/b/d",
    ];
    for a in patterns {
        for b in patterns {
            let (pa, pb) = (p(a), p(b));
            let rel = pa.relation(&pb);
            for path in paths {
                let (ma, mb) = (pa.matches(path).is_some(), pb.matches(path).is_some());
                match rel {
                    Relation::Disjoint => assert!(!(ma && mb), "{a} {b} both match {path}"),
                    Relation::Same => assert_eq!(ma, mb, "{a} {b} on {path}"),
                    Relation::MoreSpecific => assert!(!ma || mb, "{a} ⊂ {b} but {path}"),
                    Relation::LessSpecific => assert!(!mb || ma, "{b} ⊂ {a} but {path}"),
                    Relation::Overlapping => {}
                }
                // When both match, the lexicographic rank order agrees with the relation.
                if ma && mb {
                    match rel {
                        Relation::MoreSpecific => assert!(pa.ranks() < pb.ranks(), "{a} {b}"),
                        Relation::LessSpecific => assert!(pa.ranks() > pb.ranks(), "{a} {b}"),
                        _ => {}
                    }
                }
            }
        }
    }
}

#[test]
fn path_keys() {
    assert_eq!(path_key("/a/b").as_deref(), Some("/a/b"));
    assert_eq!(path_key("/a%62").as_deref(), Some("/ab"));
    assert_eq!(path_key("/a%2fb").as_deref(), Some("/a%2Fb"));
    assert_eq!(path_key("/a%25").as_deref(), Some("/a%25"));
    assert_eq!(path_key("/%").as_deref(), Some("/%25"));
    assert_eq!(path_key("a"), None);
    assert_eq!(path_key("/caf%C3%A9").as_deref(), p("/café").exact_key().as_deref());
}
