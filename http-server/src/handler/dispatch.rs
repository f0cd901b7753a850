//! From a request to a handler: the method handler (the egg's `http:request-method-handler`),
//! then the resource table, then the fallback.
//!
//! Order for one request:
//! 1. the URL transformation (if any) rewrites the target; the path is decoded;
//! 2. the method handler registered for the method runs, if there is one (HEAD uses GET's
//!    when it has none of its own, the body then left out); it takes the request whole;
//! 3. the predefined GET and POST handler ([`resource_handler`]) looks the path up in the
//!    resource table and calls the resource, or the fallback handler (404 by default).
//!    The resource table holds exact paths (one hash lookup, tried first) and route patterns
//!    (tried after, most specific first); a handler that returns [`Response::next`] passes
//!    the request to the next match;
//! 4. a method with no method handler goes to the route patterns (so `route(Method::Put,
//!    ...)` needs no method handler; exact resources answer only methods routed to them by
//!    `resource_handler`); when no pattern matches its path, OPTIONS answers `204` with
//!    `Allow`, a known method gets 405 with `Allow`, an unknown one 501.

use std::sync::Arc;

use http_utils::{Method, Request};

use crate::handler::content::Args;
use crate::handler::context::Context;
use crate::handler::context::{Handler, Table};
use crate::handler::into_response::IntoResponse;
use crate::handler::response::Response;
use crate::handler::route::Captures;
use crate::handler::route_table::Lookup;

/// The predefined GET and POST method handler: finds the resource for the context's path and
/// runs it, or runs the fallback handler. Routes ([`Server::route`](crate::Server::route))
/// need it for no method: a method without a method handler goes to them anyway. Register
/// it for another method to let exact resources
/// ([`Server::add_resource`](crate::Server::add_resource)) answer that method too, or to
/// give a method back to the routes after a handler of one's own:
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// use http_utils::Method;
/// let server = http_server::Server::builder().port(0).bind("127.0.0.1").build()?;
/// server.set_method_handler(Method::Put, http_server::resource_handler);
/// # Ok(()) }
/// ```
pub fn resource_handler(cx: &mut Context<'_>) -> Response {
    let table = cx.table;
    if let Some(h) = table.resources.get(cx.path()) {
        let r = h(cx);
        if !r.is_next() {
            return r;
        }
    }
    if table.routes.is_empty() {
        return cx.fallback();
    }
    match run_routes(cx) {
        Routed::Answer(r) => r,
        Routed::NotAllowed(allow) => method_not_allowed(cx, &allow),
        Routed::NoMatch | Routed::Declined => cx.fallback(),
    }
}

/// What the route patterns made of a request.
enum Routed {
    Answer(Response),
    /// Patterns match the path, not the method: the `Allow` list.
    NotAllowed(Vec<Method>),
    /// No pattern matches.
    NoMatch,
    /// Every matching route declined ([`Response::next`]).
    Declined,
}

/// Runs the most specific route for the context's method and path, then the next ones while
/// handlers decline.
fn run_routes(cx: &mut Context<'_>) -> Routed {
    let table = cx.table;
    let method = cx.request.method().clone();
    let first = match table.routes.lookup(&method, cx.raw_path()) {
        Lookup::Found(route) => route,
        Lookup::MethodNotAllowed(allow) => return Routed::NotAllowed(allow),
        Lookup::NotFound => return Routed::NoMatch,
    };
    let tried = first.pattern;
    cx.captures = first.captures;
    let r = (first.value)(cx);
    if !r.is_next() {
        return Routed::Answer(r);
    }
    let rest: Vec<_> = table.routes.matches(&method, cx.raw_path()).collect();
    let mut past = false;
    for route in rest {
        if !past {
            past = std::ptr::eq(route.pattern, tried);
            continue;
        }
        cx.captures = route.captures;
        let r = (route.value)(cx);
        if !r.is_next() {
            return Routed::Answer(r);
        }
    }
    cx.captures = Captures::default();
    Routed::Declined
}

fn join_methods(list: &[Method]) -> String {
    let mut out = String::new();
    for m in list {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(m.as_str());
    }
    out
}

fn method_not_allowed(cx: &Context<'_>, allow: &[Method]) -> Response {
    cx.error_response(405, "Method Not Allowed").with_header("Allow", &join_methods(allow))
}

/// Wraps a plain resource handler: the body, if any, goes through the content parser first,
/// and the handler gets the request and the arguments.
pub(crate) fn plain<F, R>(f: F) -> Handler
where
    F: Fn(&Request, &Args) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    Arc::new(move |cx: &mut Context<'_>| {
        if cx.has_body() {
            if let Err(e) = cx.parse_content() {
                return cx.error_response(e.status(), body_error_message(&e));
            }
        }
        f(&cx.request, &cx.args).into_response()
    })
}

/// A handler returning anything that becomes a response, as the table keeps handlers.
pub(crate) fn boxed<F, R>(f: F) -> Handler
where
    F: Fn(&mut Context<'_>) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    Arc::new(move |cx: &mut Context<'_>| f(cx).into_response())
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
    // The handler is found without a copy of the method (it is the table's, not the
    // request's): the common request costs no clone and no drop.
    if let Some(h) = table.methods.get(cx.request.method()) {
        return h(cx);
    }
    let method = cx.request.method().clone();
    if method == Method::Head {
        if let Some(h) = table.methods.get(&Method::Get) {
            return h(cx);
        }
    }
    if !table.routes.is_empty() {
        if method == Method::Options {
            if let Some(mut list) = table.routes.allowed_methods(cx.raw_path()) {
                if !list.is_empty() {
                    if !list.contains(&Method::Options) {
                        list.push(Method::Options);
                    }
                    return Response::new(204).with_header("Allow", &join_methods(&list));
                }
            }
        }
        match run_routes(cx) {
            Routed::Answer(r) => return r,
            Routed::NotAllowed(allow) => return method_not_allowed(cx, &allow),
            Routed::Declined => return cx.fallback(),
            Routed::NoMatch => {}
        }
    }
    match method {
        Method::Head => Response::new(405).with_header("Allow", &allowed(table)),
        Method::Options => Response::new(204).with_header("Allow", &allowed(table)),
        Method::Other(_) => cx.error_response(501, "Not Implemented"),
        _ => cx.error_response(405, "Method Not Allowed").with_header("Allow", &allowed(table)),
    }
}
