//! From a request to a handler: the method handler (the egg's `http:request-method-handler`),
//! then the resource table, then the fallback.
//!
//! Order for one request:
//! 1. the URL transformation (if any) rewrites the target; the path is decoded;
//! 2. the method handler registered for the method runs; HEAD uses GET's when it has none of
//!    its own (the body is then left out), OPTIONS answers with `Allow` when it has none;
//!    a known method without a handler gets 405 with `Allow`, an unknown one 501;
//! 3. the predefined GET and POST handlers ([`resource_handler`]) look the path up in the
//!    resource table and call the resource, or the fallback handler (404 by default).

use std::sync::Arc;

use http_utils::{Method, Request};

use crate::context::Context;
use crate::registry::{Args, Handler, Table};
use crate::response::Response;

/// The predefined GET and POST method handler: finds the resource for the context's path and
/// runs it, or runs the fallback handler. Register it for other methods to route them to
/// resources too:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_utils::Method;
/// let server = http_server::Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.set_method_handler(Method::Put, http_server::resource_handler);
/// # Ok(()) }
/// ```
pub fn resource_handler(cx: &mut Context<'_>) -> Response {
    let resource = cx.table.resources.get(cx.path()).cloned();
    match resource {
        Some(h) => h(cx),
        None => cx.fallback(),
    }
}

/// Wraps a plain resource handler: the body, if any, goes through the content parser first,
/// and the handler gets the request and the arguments.
pub(crate) fn plain<F>(f: F) -> Handler
where
    F: Fn(&Request, &Args) -> Response + Send + Sync + 'static,
{
    Arc::new(move |cx: &mut Context<'_>| {
        if cx.has_body() {
            if let Err(e) = cx.parse_content() {
                return cx.error_response(e.status(), body_error_message(&e));
            }
        }
        f(&cx.request, &cx.args)
    })
}

/// A fixed message for a body error: never bytes from the peer.
pub(crate) fn body_error_message(e: &http_utils::Error) -> &'static str {
    match e.kind() {
        Some(k) => k.description(),
        None if e.is_timeout() => "timed out reading the body",
        None => "could not read the body",
    }
}

/// The methods with a handler, for `Allow`, in a stable order.
pub(crate) fn allowed(table: &Table) -> String {
    let standard = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
        Method::Options,
        Method::Trace,
        Method::Connect,
    ];
    let mut out = String::new();
    let mut push = |m: &str| {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(m);
    };
    for m in &standard {
        let has = table.methods.contains_key(m)
            || (*m == Method::Head && table.methods.contains_key(&Method::Get))
            || *m == Method::Options;
        if has {
            push(m.as_str());
        }
    }
    let mut others: Vec<&str> =
        table.methods.keys().filter(|m| matches!(m, Method::Other(_))).map(|m| m.as_str()).collect();
    others.sort_unstable();
    for m in others {
        push(m);
    }
    out
}

/// Runs the handler for the context's method.
pub(crate) fn dispatch(cx: &mut Context<'_>) -> Response {
    let table = cx.table;
    let method = cx.request.method().clone();
    if let Some(h) = table.methods.get(&method) {
        return h(cx);
    }
    match method {
        Method::Head => match table.methods.get(&Method::Get) {
            Some(h) => h(cx),
            None => Response::new(405).with_header("Allow", &allowed(table)),
        },
        Method::Options => Response::new(204).with_header("Allow", &allowed(table)),
        Method::Other(_) => cx.error_response(501, "Not Implemented"),
        _ => cx.error_response(405, "Method Not Allowed").with_header("Allow", &allowed(table)),
    }
}
