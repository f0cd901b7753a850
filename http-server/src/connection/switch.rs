//! Switching protocols, before the `101` is written: whether the request asked for the
//! protocol a handler switches to, and whether the connection is fit to switch.

use http_utils::{Request, Version};

use super::CloseReason;
use crate::handler::context::Context;
use crate::handler::response::{Response, Takeover};
use crate::io::budget::Share;

/// True when `request` asked to switch to `protocol` (RFC 9110 §7.8): HTTP/1.1 (an
/// HTTP/1.0 `Upgrade` is ignored), `Connection: upgrade`, and `protocol` among the `Upgrade`
/// field's protocols, matched without case and, when `protocol` names no version, whatever
/// version the client named.
pub(crate) fn asked_for(request: &Request, protocol: &str) -> bool {
    let headers = request.headers();
    request.version() == Version::Http11
        && headers.connection_has("upgrade")
        && headers.get_all("upgrade").flat_map(|v| v.split(',')).any(|offered| {
            let offered = offered.trim_matches([' ', '\t']);
            offered.eq_ignore_ascii_case(protocol)
                || (!protocol.contains('/')
                    && offered.split_once('/').is_some_and(|(name, _)| name.eq_ignore_ascii_case(protocol)))
        })
}

/// Checks a handler's upgrade before it is written: the request must have asked for the
/// protocol (426 otherwise), the connection must be fit to switch (its request read to
/// the end, the server not stopping), and the stream cap must have room (503). Other
/// responses pass unchanged.
#[inline]
pub(crate) fn vet(cx: &mut Context<'_>, r: &mut Response, close: Option<CloseReason>) {
    if r.takeover().is_some() {
        vet_takeover(cx, r, close);
    }
}

fn vet_takeover(cx: &mut Context<'_>, r: &mut Response, close: Option<CloseReason>) {
    let Some(Takeover::Upgrade { protocol, .. }) = r.takeover() else { return };
    if !asked_for(&cx.request, protocol) {
        let protocol = protocol.clone();
        let refusal = cx.error_response(426, "Upgrade Required");
        // A protocol name that cannot be a field value is the handler's error: a 500.
        *r = match refusal.try_with_header("Upgrade", &protocol) {
            Ok(refusal) => refusal,
            Err(_) => cx.error_response(500, "Internal Server Error"),
        };
        return;
    }
    match close {
        Some(CloseReason::ShuttingDown) => {
            *r = cx.error_response(503, "Service Unavailable");
            return;
        }
        Some(CloseReason::BodyFailed | CloseReason::UnreadBody | CloseReason::HandlerPanicked) => {
            *r = cx.error_response(400, "Bad Request");
            return;
        }
        _ => {}
    }
    let mut share = Share::new(&cx.site.streams);
    if !share.grow(1) {
        *r = cx.error_response(503, "Service Unavailable").with_header("Retry-After", "1");
        return;
    }
    if let Some(Takeover::Upgrade { share: slot, .. }) = r.takeover_mut() {
        *slot = Some(share);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_utils::Method;

    fn req(version: Version, fields: &[(&str, &str)]) -> Request {
        let mut r = Request::new(Method::Get, "/".to_owned());
        r.set_version(version);
        for (k, v) in fields {
            r.headers_mut().append(k, v).unwrap();
        }
        r
    }

    #[test]
    fn what_counts_as_asking() {
        let ws = [("Connection", "keep-alive, Upgrade"), ("Upgrade", "websocket")];
        assert!(asked_for(&req(Version::Http11, &ws), "websocket"));
        assert!(asked_for(&req(Version::Http11, &ws), "WebSocket"));
        assert!(!asked_for(&req(Version::Http10, &ws), "websocket"));
        assert!(!asked_for(&req(Version::Http11, &ws[1..]), "websocket"));
        assert!(!asked_for(&req(Version::Http11, &ws[..1]), "websocket"));
        assert!(!asked_for(&req(Version::Http11, &ws), "h2c"));
        let versioned = [("Connection", "upgrade"), ("Upgrade", "foo/2, bar")];
        assert!(asked_for(&req(Version::Http11, &versioned), "foo"));
        assert!(asked_for(&req(Version::Http11, &versioned), "foo/2"));
        assert!(!asked_for(&req(Version::Http11, &versioned), "foo/3"));
        assert!(asked_for(&req(Version::Http11, &versioned), "bar"));
    }
}
