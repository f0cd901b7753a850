//! Following redirects: where the next hop goes, what it carries, and who may say no.
//!
//! The rules, hop by hop, in the order they are checked:
//!
//! 1. A `Location` is resolved against the current URL; a URL that is not `http` or `https`,
//!    or that carries credentials of its own (`http://user:password@host/`), is refused
//!    ([`Error::BadRedirect`]): the Fetch standard makes both a network error, and credentials
//!    chosen by a server must never go to the host it names.
//! 2. A hop from `https` to `http` is refused ([`Error::InsecureRedirect`]) unless the client
//!    allows it ([`ClientBuilder::allow_downgrade_redirects`]); even then, it leaves the
//!    origin, so credentials stay behind.
//! 3. The caller's [`RedirectPolicy`], if any, may stop (the redirect is the answer) or refuse.
//! 4. Credentials — `Authorization`, `Cookie` and `Proxy-Authorization` fields of the
//!    request, and the user name and password of its URL — travel only while the origin
//!    (scheme, host and port) stays the one the request started with. Once a hop leaves it,
//!    they are dropped for the rest of the chain, even when a later hop comes back (A → B → A).
//!    The cookie jar is not affected: it sends each URL the cookies that URL set.
//!
//! [`ClientBuilder::allow_downgrade_redirects`]: crate::ClientBuilder::allow_downgrade_redirects

use std::fmt;
use std::sync::Arc;

use http_utils::{Body, Method, Request};

use crate::error::{Error, Result};
use crate::urls::redact_url;

/// The header fields that carry credentials, dropped when a redirect leaves the origin.
pub(crate) const CREDENTIAL_FIELDS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// One redirect about to be followed, as a [`RedirectPolicy`] sees it.
#[derive(Debug)]
pub struct Redirect<'a> {
    status: u16,
    method: &'a Method,
    from: &'a url::Url,
    to: &'a url::Url,
    followed: u32,
}

impl Redirect<'_> {
    /// The redirect's status (301, 302, 303, 307 or 308).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The method the next hop will use (GET after a 303, and after a 301 or 302 to a POST).
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The URL that answered with the redirect, without credentials.
    pub fn from(&self) -> String {
        redact_url(self.from.as_str())
    }

    /// The URL the next hop will ask for, without credentials.
    pub fn to(&self) -> String {
        redact_url(self.to.as_str())
    }

    /// The host of the next hop.
    pub fn to_host(&self) -> &str {
        self.to.host_str().unwrap_or_default()
    }

    /// True when the next hop keeps the scheme, host and port of the one before.
    pub fn same_origin(&self) -> bool {
        self.from.origin() == self.to.origin()
    }

    /// Redirects already followed for this request (0 for the first).
    pub fn followed(&self) -> u32 {
        self.followed
    }
}

/// What a [`RedirectPolicy`] decides for one hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectAction {
    /// Follow it (by the client's rules: credentials still stay with their origin).
    Follow,
    /// Do not follow it: the redirect response is the answer.
    Stop,
    /// Fail the request with [`Error::BadRedirect`].
    Refuse,
}

/// A function that decides, hop by hop, whether a redirect is followed
/// ([`ClientBuilder::redirect_policy`](crate::ClientBuilder::redirect_policy)). It is asked
/// after the client's own rules (the count, the scheme, credentials in `Location`, the
/// https-to-http refusal) have let the hop through, and can only be stricter than they are.
pub type RedirectPolicy = dyn Fn(&Redirect<'_>) -> RedirectAction + Send + Sync;

/// The client's redirect settings.
#[derive(Clone, Default)]
pub(crate) struct Rules {
    pub(crate) max: u32,
    pub(crate) allow_downgrade: bool,
    pub(crate) policy: Option<Arc<RedirectPolicy>>,
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("max", &self.max)
            .field("allow_downgrade", &self.allow_downgrade)
            .field("policy", &self.policy.is_some())
            .finish()
    }
}

/// Where a chain of redirects stands.
pub(crate) struct Chain {
    /// Redirects followed so far.
    pub(crate) followed: u32,
    /// False once a hop has left the origin the request started at.
    pub(crate) credentials: bool,
}

/// What to do after a redirect.
#[derive(Debug)]
pub(crate) enum Step {
    /// The response is the answer.
    Answer,
    /// Send `req` (already changed) to this URL.
    Follow(url::Url),
}

/// Decides the hop after a response with `status` and `location` to the request `req` sent to
/// `url`, and changes `req` for it (method, body, credentials).
pub(crate) fn next_hop(
    rules: &Rules,
    chain: &mut Chain,
    req: &mut Request,
    url: &url::Url,
    status: u16,
    location: Option<&str>,
) -> Result<Step> {
    if !matches!(status, 301 | 302 | 303 | 307 | 308) || rules.max == 0 {
        return Ok(Step::Answer);
    }
    let Some(location) = location else { return Ok(Step::Answer) };
    if chain.followed >= rules.max {
        return Err(Error::TooManyRedirects { max: rules.max });
    }
    let mut next = resolve_location(url, location)?;
    if url.scheme() == "https" && next.scheme() == "http" && !rules.allow_downgrade {
        return Err(Error::InsecureRedirect { url: redact_url(next.as_str()) });
    }
    let method = req.method().clone();
    let to_get =
        (status == 303 && method != Method::Head) || (matches!(status, 301 | 302) && method == Method::Post);
    if !to_get && matches!(req.body(), Body::Stream { .. }) {
        // A streamed body was consumed: the redirect is the caller's to follow.
        return Ok(Step::Answer);
    }
    if let Some(policy) = &rules.policy {
        let next_method = if to_get { Method::Get } else { method };
        let hop = Redirect { status, method: &next_method, from: url, to: &next, followed: chain.followed };
        match policy(&hop) {
            RedirectAction::Follow => {}
            RedirectAction::Stop => return Ok(Step::Answer),
            RedirectAction::Refuse => {
                return Err(Error::BadRedirect(format!(
                    "the redirect policy refused the {status} to {}",
                    redact_url(next.as_str())
                )))
            }
        }
    }
    if to_get {
        req.set_method(Method::Get);
        req.set_body(Body::Empty);
        let h = req.headers_mut();
        for name in ["content-type", "content-length", "transfer-encoding", "content-encoding"] {
            h.remove(name);
        }
    }
    if next.origin() != url.origin() {
        chain.credentials = false;
    }
    if chain.credentials {
        // A relative Location keeps the URL's own credentials (they were not the server's).
        if next.username().is_empty() && next.password().is_none() {
            let _ = next.set_username(url.username());
            let _ = next.set_password(url.password());
        }
    } else {
        let h = req.headers_mut();
        for name in CREDENTIAL_FIELDS {
            h.remove(name);
        }
    }
    chain.followed += 1;
    Ok(Step::Follow(next))
}

/// `location` resolved against `url`, refusing schemes other than `http` and `https` and
/// credentials that the `Location` itself carries.
fn resolve_location(url: &url::Url, location: &str) -> Result<url::Url> {
    // Resolved against the URL without its credentials: whatever credentials the result has
    // came from the Location.
    let mut base = url.clone();
    let _ = base.set_username("");
    let _ = base.set_password(None);
    // The Location's text is the server's: it is not echoed in the error.
    let next = base.join(location).map_err(|e| Error::BadRedirect(format!("bad Location: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(Error::BadRedirect(format!("unsupported scheme {:?}", next.scheme())));
    }
    if next.host_str().is_none_or(str::is_empty) {
        return Err(Error::BadRedirect("a Location without a host".to_owned()));
    }
    if !next.username().is_empty() || next.password().is_some() {
        return Err(Error::BadRedirect(
            "the Location carries a user name or password, which are never sent to the host it names"
                .to_owned(),
        ));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(rules: &Rules, chain: &mut Chain, req: &mut Request, from: &str, loc: &str) -> Result<Step> {
        next_hop(rules, chain, req, &url::Url::parse(from).unwrap(), 302, Some(loc))
    }

    fn with_credentials() -> Request {
        Request::new(Method::Get, "https://a.example/")
            .with_header("Authorization", "Bearer t")
            .unwrap()
            .with_header("Cookie", "s=1")
            .unwrap()
            .with_header("Proxy-Authorization", "Basic x")
            .unwrap()
    }

    fn rules() -> Rules {
        Rules { max: 10, ..Rules::default() }
    }

    #[test]
    fn credentials_stay_with_the_origin_and_stay_dropped() {
        let rules = rules();
        let mut chain = Chain { followed: 0, credentials: true };
        let mut req = with_credentials();
        let Step::Follow(same) = hop(&rules, &mut chain, &mut req, "https://a.example/", "/b").unwrap()
        else {
            panic!()
        };
        assert_eq!(same.as_str(), "https://a.example/b");
        assert_eq!(req.headers().get("authorization"), Some("Bearer t"));
        // Another port is another origin.
        let Step::Follow(_) =
            hop(&rules, &mut chain, &mut req, "https://a.example/", "https://a.example:8443/").unwrap()
        else {
            panic!()
        };
        for name in CREDENTIAL_FIELDS {
            assert_eq!(req.headers().get(name), None, "{name}");
        }
        // Back at the first origin: still dropped.
        let mut req2 = req;
        req2.headers_mut().set("Authorization", "added later").unwrap();
        let Step::Follow(_) =
            hop(&rules, &mut chain, &mut req2, "https://a.example:8443/", "https://a.example/").unwrap()
        else {
            panic!()
        };
        assert_eq!(req2.headers().get("authorization"), None);
        assert!(!chain.credentials);
    }

    #[test]
    fn url_credentials_follow_only_within_the_origin() {
        let rules = rules();
        let mut chain = Chain { followed: 0, credentials: true };
        let mut req = Request::new(Method::Get, "http://u:p@a.example/");
        let Step::Follow(next) = hop(&rules, &mut chain, &mut req, "http://u:p@a.example/x", "/y").unwrap()
        else {
            panic!()
        };
        assert_eq!(next.as_str(), "http://u:p@a.example/y");
        let Step::Follow(next) =
            hop(&rules, &mut chain, &mut req, "http://u:p@a.example/x", "http://b.example/").unwrap()
        else {
            panic!()
        };
        assert_eq!(next.as_str(), "http://b.example/");
    }

    #[test]
    fn locations_with_credentials_or_other_schemes_are_refused() {
        let rules = rules();
        for loc in ["http://user:hunter2@b.example/", "//user@b.example/", "https://:hunter2@a.example/"] {
            let mut chain = Chain { followed: 0, credentials: true };
            let err =
                hop(&rules, &mut chain, &mut with_credentials(), "https://a.example/", loc).unwrap_err();
            assert!(matches!(err, Error::BadRedirect(ref m) if m.contains("user name")), "{loc}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let mut chain = Chain { followed: 0, credentials: true };
        let err =
            hop(&rules, &mut chain, &mut with_credentials(), "https://a.example/", "file:///etc/passwd")
                .unwrap_err();
        assert!(matches!(err, Error::BadRedirect(_)), "{err}");
    }

    #[test]
    fn https_to_http_is_refused_unless_allowed() {
        let mut chain = Chain { followed: 0, credentials: true };
        let err =
            hop(&rules(), &mut chain, &mut with_credentials(), "https://a.example/", "http://a.example:443/")
                .unwrap_err();
        assert!(matches!(err, Error::InsecureRedirect { .. }), "{err}");
        let allowing = Rules { allow_downgrade: true, ..rules() };
        let mut req = with_credentials();
        let Step::Follow(next) =
            hop(&allowing, &mut chain, &mut req, "https://a.example/", "http://a.example:443/").unwrap()
        else {
            panic!()
        };
        assert_eq!(next.as_str(), "http://a.example:443/");
        assert_eq!(req.headers().get("authorization"), None);
    }

    #[test]
    fn a_policy_can_stop_or_refuse() {
        let policy: Arc<RedirectPolicy> = Arc::new(|r: &Redirect<'_>| match r.to_host() {
            "stop.example" => RedirectAction::Stop,
            "bad.example" => RedirectAction::Refuse,
            _ => RedirectAction::Follow,
        });
        let rules = Rules { policy: Some(policy), ..rules() };
        let mut chain = Chain { followed: 0, credentials: true };
        let mut req = with_credentials();
        assert!(matches!(
            hop(&rules, &mut chain, &mut req, "https://a.example/", "https://stop.example/").unwrap(),
            Step::Answer
        ));
        assert!(matches!(
            hop(&rules, &mut chain, &mut req, "https://a.example/", "https://bad.example/"),
            Err(Error::BadRedirect(_))
        ));
        assert!(matches!(
            hop(&rules, &mut chain, &mut req, "https://a.example/", "https://ok.example/").unwrap(),
            Step::Follow(_)
        ));
        assert_eq!(chain.followed, 1);
    }
}
