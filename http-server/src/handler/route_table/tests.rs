use super::*;

fn p(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

fn found<'a>(
    t: &'a RouteTable<&'static str>,
    m: Method,
    path: &str,
) -> Option<(&'a str, Vec<(String, String)>)> {
    match t.lookup(&m, path) {
        Lookup::Found(r) => {
            Some((*r.value, r.captures.iter().map(|(a, b)| (a.to_owned(), b.to_owned())).collect()))
        }
        _ => None,
    }
}

fn value(t: &RouteTable<&'static str>, m: Method, path: &str) -> Option<&'static str> {
    match t.lookup(&m, path) {
        Lookup::Found(r) => Some(*r.value),
        _ => None,
    }
}

fn table() -> RouteTable<&'static str> {
    let mut t = RouteTable::new();
    t.insert(p("/"), Method::Get, "root").unwrap();
    t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
    t.insert(p("/hello/world"), Method::Get, "world").unwrap();
    t.insert(p("/echo"), [Method::Get, Method::Post], "echo").unwrap();
    t.insert(p("/files/{path...}"), Method::Get, "files").unwrap();
    t.insert(p("/files/special/{name}"), Method::Get, "special").unwrap();
    t.insert(p("/items/{id}"), Method::Delete, "delete").unwrap();
    t.insert(p("/items/{id}"), Method::Put, "put").unwrap();
    t.insert(p("/any"), Methods::Any, "any").unwrap();
    t
}

#[test]
fn most_specific_wins() {
    let t = table();
    let cases: &[(&str, Option<&str>)] = &[
        ("/", Some("root")),
        ("/hello/world", Some("world")),
        ("/hello/wor%6Cd", Some("world")),
        ("/hello/ann", Some("hello")),
        ("/hello/world/", None),
        ("/echo", Some("echo")),
        ("/files/a/b", Some("files")),
        ("/files/special/x", Some("special")),
        ("/files/special/x/y", Some("files")),
        ("/files/special/", Some("files")),
        ("/files/index", Some("files")),
        ("/hello/index", Some("hello")),
        ("/any", Some("any")),
        ("/nothing", None),
        ("*", None),
        ("", None),
    ];
    for &(path, want) in cases {
        assert_eq!(value(&t, Method::Get, path), want, "{path}");
    }
    assert_eq!(found(&t, Method::Get, "/hello/b%C3%B6b").unwrap().1, [("name".to_owned(), "böb".to_owned())]);
}

#[test]
fn methods_head_and_405() {
    let t = table();
    assert_eq!(value(&t, Method::Post, "/echo"), Some("echo"));
    assert_eq!(value(&t, Method::Head, "/echo"), Some("echo"));
    assert_eq!(value(&t, Method::Head, "/hello/x"), Some("hello"));
    assert_eq!(value(&t, Method::Put, "/items/7"), Some("put"));
    assert_eq!(value(&t, Method::extension("PURGE").unwrap(), "/any"), Some("any"));
    match t.lookup(&Method::Put, "/echo") {
        Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head, Method::Post]),
        other => panic!("{other:?}"),
    }
    match t.lookup(&Method::Get, "/items/7") {
        Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Delete, Method::Put]),
        other => panic!("{other:?}"),
    }
    // The allow list covers every pattern that matches the path.
    match t.lookup(&Method::Post, "/files/special/x") {
        Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head]),
        other => panic!("{other:?}"),
    }
    assert!(matches!(t.lookup(&Method::Get, "/nope/nope/nope"), Lookup::NotFound));
    assert_eq!(t.allowed_methods("/echo"), Some(vec![Method::Get, Method::Head, Method::Post]));
    assert_eq!(t.allowed_methods("/any"), None);
    assert_eq!(t.allowed_methods("/nope/nope/nope"), Some(vec![]));
}

#[test]
fn explicit_head_beats_get() {
    let mut t = RouteTable::new();
    t.insert(p("/r"), Method::Get, "get").unwrap();
    t.insert(p("/r"), Method::Head, "head").unwrap();
    assert_eq!(value(&t, Method::Head, "/r"), Some("head"));
    assert_eq!(value(&t, Method::Get, "/r"), Some("get"));
    assert_eq!(t.get(&p("/r"), &Method::Head), Some(&"head"));
    assert_eq!(t.get(&p("/r"), &Method::Post), None);
}

#[test]
fn next_walks_every_match_in_order() {
    let mut t = RouteTable::new();
    t.insert(p("/"), Method::Get, "root").unwrap();
    t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
    t.insert(p("/hello/world"), Method::Get, "world").unwrap();
    t.insert(p("/{a}/{b}"), Method::Get, "two").unwrap();
    t.insert(p("/{all...}"), Methods::Any, "all").unwrap();
    t.insert(p("/files/{path...}"), Method::Post, "files").unwrap();
    t.insert(p("/files/special/{name}"), Method::Post, "special").unwrap();
    let order = |m: Method, path: &str| t.matches(&m, path).map(|r| *r.value).collect::<Vec<_>>();
    assert_eq!(order(Method::Get, "/hello/world"), ["world", "hello", "two", "all"]);
    assert_eq!(order(Method::Post, "/files/special/x"), ["special", "files", "all"]);
    assert_eq!(order(Method::Get, "/hello/index"), ["hello", "two", "all"]);
    // A pattern that matches the path without the method is skipped.
    assert_eq!(order(Method::Post, "/hello/world"), ["all"]);
    assert_eq!(order(Method::Get, "/files/special/x"), ["all"]);
    assert_eq!(order(Method::Get, "/"), ["root", "all"]);
    let first = t.matches(&Method::Post, "/files/special/x").next().unwrap();
    assert_eq!(first.pattern.as_str(), "/files/special/{name}");
    assert_eq!(first.captures.get("name"), Some("x"));
}

#[test]
fn conflicts_and_duplicates() {
    let mut t = table();
    let err = t.insert(p("/hello/{other}"), Method::Get, "x").unwrap_err();
    assert_eq!(
        err,
        RouteError::Conflict { pattern: "/hello/{other}".into(), existing: "/hello/{name}".into() }
    );
    assert!(err.to_string().contains("conflicts"));
    let err = t.insert(p("/hello/{name}"), Method::Get, "again").unwrap_err();
    assert_eq!(err, RouteError::Duplicate { pattern: "/hello/{name}".into(), method: "GET".into() });
    assert_eq!(
        t.insert(p("/items/{id}"), [Method::Post, Method::Put], "x"),
        Err(RouteError::Duplicate { pattern: "/items/{id}".into(), method: "PUT".into() })
    );
    assert_eq!(
        t.insert(p("/echo"), Methods::Any, "x"),
        Err(RouteError::Duplicate { pattern: "/echo".into(), method: "GET".into() })
    );
    assert_eq!(t.insert(p("/x"), Vec::new(), "x"), Err(RouteError::NoMethods));
    // Same paths, another spelling: a conflict when a method is shared, fine otherwise.
    assert!(matches!(t.insert(p("/ech%6F"), Method::Post, "x"), Err(RouteError::Conflict { .. })));
    t.insert(p("/ech%6F"), Method::Put, "put-echo").unwrap();
    assert_eq!(value(&t, Method::Put, "/echo"), Some("put-echo"));
    assert_eq!(value(&t, Method::Post, "/echo"), Some("echo"));
    // Overlapping patterns (both match /a/b) must not share a method.
    let mut u = RouteTable::new();
    u.insert(p("/a/{x}"), Method::Get, "ax").unwrap();
    assert!(matches!(u.insert(p("/{y}/b"), Method::Get, "yb"), Err(RouteError::Conflict { .. })));
    u.insert(p("/{y}/b"), Method::Post, "yb").unwrap();
    assert!(matches!(u.insert(p("/{z}/{w}"), Methods::Any, "zw"), Ok(())));
    assert_eq!(u.len(), 3);
    assert!(RouteError::NoMethods.to_string().contains("method"));
}

#[test]
fn overlapping_patterns_with_disjoint_methods() {
    let mut t = RouteTable::new();
    t.insert(p("/hello/{name}"), Method::Get, "hello").unwrap();
    t.insert(p("/files/{path...}"), Method::Get, "files").unwrap();
    for overlapping in ["/{section}/index", "/{section}/{page}/"] {
        let err = t.insert(p(overlapping), Method::Get, "x").unwrap_err();
        assert!(matches!(err, RouteError::Conflict { .. }), "{overlapping}: {err:?}");
    }
    // With another method they coexist, and each answers its own method.
    t.insert(p("/{section}/index"), Method::Post, "index").unwrap();
    assert_eq!(value(&t, Method::Post, "/hello/index"), Some("index"));
    assert_eq!(value(&t, Method::Get, "/hello/index"), Some("hello"));
    match t.lookup(&Method::Put, "/hello/index") {
        Lookup::MethodNotAllowed(allow) => assert_eq!(allow, [Method::Get, Method::Head, Method::Post]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn remove_and_reinsert() {
    let mut t = table();
    let n = t.len();
    let removed = t.remove(&p("/hello/world"));
    assert_eq!(removed.len(), 1);
    assert_eq!(t.len(), n - 1);
    assert_eq!(value(&t, Method::Get, "/hello/world"), Some("hello"));
    assert!(t.remove(&p("/hello/world")).is_empty());
    // Indexes are rebuilt: everything else is still found.
    assert_eq!(value(&t, Method::Get, "/echo"), Some("echo"));
    assert_eq!(value(&t, Method::Get, "/files/x"), Some("files"));
    assert_eq!(value(&t, Method::Get, "/any"), Some("any"));
    t.remove(&p("/hello/{name}"));
    assert!(matches!(t.lookup(&Method::Get, "/hello/x"), Lookup::NotFound));
    t.insert(p("/hello/{who}"), Method::Get, "again").unwrap();
    assert_eq!(value(&t, Method::Get, "/hello/x"), Some("again"));
    assert!(t.patterns().any(|q| q.as_str() == "/hello/{who}"));
    assert!(!t.is_empty());
}

#[test]
fn encoded_first_segments() {
    let mut t = RouteTable::new();
    t.insert(p("/a%2Fb/{x}"), Method::Get, "slash").unwrap();
    t.insert(p("/100%25/{x}"), Method::Get, "percent").unwrap();
    t.insert(p("/a/{x}"), Method::Get, "a").unwrap();
    assert_eq!(value(&t, Method::Get, "/a%2Fb/1"), Some("slash"));
    assert_eq!(value(&t, Method::Get, "/a%2fb/1"), Some("slash"));
    assert_eq!(value(&t, Method::Get, "/a/b/1"), None);
    assert_eq!(value(&t, Method::Get, "/100%25/1"), Some("percent"));
    assert_eq!(value(&t, Method::Get, "/%61/1"), Some("a"));
    assert_eq!(value(&t, Method::Get, "/a/1"), Some("a"));
}

#[test]
fn many_exact_routes() {
    let mut t = RouteTable::new();
    for i in 0..1000 {
        t.insert(p(&format!("/r{i}/x")), Method::Get, i).unwrap();
    }
    t.insert(p("/hello/{name}"), Method::Get, 5000).unwrap();
    for i in (0..1000).step_by(97) {
        match t.lookup(&Method::Get, &format!("/r{i}/x")) {
            Lookup::Found(r) => assert_eq!(*r.value, i),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(t.lookup(&Method::Get, "/hello/x"), Lookup::Found(r) if *r.value == 5000));
}
