//! What the credential checks share: which methods they check, and the realm they name.

use http_utils::Method;

/// The methods that may change something: every method but `GET`, `HEAD` and `OPTIONS`
/// (what `writes_only` checks).
pub(crate) const WRITES: [Method; 4] = [Method::Post, Method::Put, Method::Patch, Method::Delete];

/// True when a check limited to `methods` (none: every method) applies to `method`.
pub(crate) fn applies(methods: Option<&[Method]>, method: &Method) -> bool {
    methods.is_none_or(|m| m.contains(method))
}

/// Panics unless `realm` can stand in a quoted string as it is (printable ASCII, no quote or
/// backslash); `who` names the caller in the message.
pub(crate) fn assert_quotable(who: &str, realm: &str) {
    assert!(
        realm.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'),
        "{who}::realm: {realm:?} cannot be quoted"
    );
}
