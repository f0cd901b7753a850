//! The cookie jar (feature `cookies`, `cookie_store`): cookies kept from `Set-Cookie` and sent
//! back to the URLs they belong to. Without the feature the jar is a type with no values, so a
//! client never has one and every use of it compiles away.

#[cfg(feature = "cookies")]
use std::sync::Mutex;

#[cfg(feature = "cookies")]
use cookie_store::CookieStore;

/// A client's cookie jar, shared by its threads.
#[cfg(feature = "cookies")]
pub(crate) struct Jar(Mutex<CookieStore>);

/// A client's cookie jar: none in a build without the `cookies` feature.
#[cfg(not(feature = "cookies"))]
pub(crate) enum Jar {}

#[cfg(feature = "cookies")]
impl Jar {
    /// An empty jar.
    pub(crate) fn new() -> Option<Jar> {
        Some(Jar(Mutex::new(CookieStore::new())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CookieStore> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps the cookies of these `Set-Cookie` values, sent by `url` (bad ones are skipped).
    pub(crate) fn store<'a>(&self, set_cookies: impl Iterator<Item = &'a str>, url: &url::Url) {
        let mut jar = self.lock();
        for set_cookie in set_cookies {
            let _ = jar.parse(set_cookie, url);
        }
    }

    /// The `Cookie` value for a request to `url` (empty when no cookie matches).
    pub(crate) fn cookies_for(&self, url: &url::Url) -> String {
        let jar = self.lock();
        let mut cookies = String::new();
        for (name, value) in jar.get_request_values(url) {
            if !cookies.is_empty() {
                cookies.push_str("; ");
            }
            cookies.push_str(name);
            cookies.push('=');
            cookies.push_str(value);
        }
        cookies
    }

    /// Throws every cookie away.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(not(feature = "cookies"))]
impl Jar {
    /// No jar: the feature is off.
    pub(crate) fn new() -> Option<Jar> {
        None
    }

    pub(crate) fn store<'a>(&self, _: impl Iterator<Item = &'a str>, _: &url::Url) {
        match *self {}
    }

    pub(crate) fn cookies_for(&self, _: &url::Url) -> String {
        match *self {}
    }

    pub(crate) fn clear(&self) {
        match *self {}
    }
}
