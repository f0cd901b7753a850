//! From a request to its answer, for the phases that run user code (`Run`, `Waiting`): the
//! context a handler gets, the dispatch with `next`, restarts and status handlers, panics
//! kept in, the response written into the worker's buffer, and the [`Answer`] handed on.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use http_utils::{Framing, Request};

use super::answer::{Answer, OutBody};
use super::compose::write_response;
use super::flight::InFlight;
use super::log::{log, log_record, logged, panic_message, LateLog};
use super::refusal::Refusal;
use super::worker::Worker;
use super::{hook_error, CloseReason, Conn};
use crate::connection::engine::Engine;
use crate::handler::content::{Args, Content};
use crate::handler::context::{Context, Table};
use crate::handler::dispatch::dispatch;
use crate::handler::hooks::ErrorEvent;
use crate::handler::middleware::run_chain;
use crate::handler::response::{Pass, Response};
use crate::handler::route::Captures;
use crate::io::head::BodyFraming;
use crate::io::transport::PeerAddr;
use crate::io::wire::Wire;

/// At most this many internal redirects ([`Response::restart`]) per request.
const MAX_RESTARTS: u32 = 8;

/// What a handler's context reads its request body from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodySetup {
    pub framing: Framing,
    /// `Expect: 100-continue` is answered on the first read.
    pub continue_pending: bool,
    /// The connection closes after this request.
    pub closing: bool,
    /// A chunked body read from the socket is refused (413) past this size.
    pub max_body: Option<u64>,
}

/// The context a handler runs in, over the connection and the worker's buffers.
pub(crate) fn context<'a>(
    w: &'a mut Worker<'_>,
    conn: &'a mut Conn,
    table: &'a Table,
    request: Box<Request>,
    setup: BodySetup,
) -> Context<'a> {
    let engine = w.engine;
    let key = w.key;
    let home = engine.poller_of(key);
    let io = &mut *conn.io;
    let secure = io.secure();
    let wire = Wire::new(io, &mut w.rbuf, &mut w.wbuf, &mut w.heads, &mut w.solo, (key, home), &engine.wire);
    let mut body = http_utils::io::BodyReader::new(wire, setup.framing, &engine.wire.limits);
    if let Some(max) = setup.max_body {
        body.set_max_body(max);
    }
    Context {
        request,
        path: None,
        captures: Captures::default(),
        key,
        deferred: None,
        stream_share: None,
        panicked: false,
        args: Args::new(),
        content: None,
        peer: &conn.peer,
        table,
        body,
        continue_pending: setup.continue_pending,
        body_failed: false,
        written: None,
        site: &engine.site,
        home,
        closing: setup.closing,
        secure,
    }
}

/// The decoded path for the resource lookup when it differs from the raw one, and the
/// decoded query arguments.
fn lookup_path(req: &Request) -> (Option<String>, Args) {
    let raw = req.path();
    let path = if raw.contains('%') { Some(http_utils::decode_url(raw).0) } else { None };
    let args = match req.query() {
        Some(q) if !q.is_empty() => Args::from(http_utils::decode_form(q)),
        _ => Args::new(),
    };
    (path, args)
}

/// Sets the context's path, arguments and captures for its (possibly restarted) URL, after
/// the URL transformation (the egg's `http:url-transformation`), which rewrites the
/// request's URL itself: handlers, status handlers and the log see the new one.
fn route_request(cx: &mut Context<'_>) {
    if let Some(t) = &cx.table.url_transform {
        let url = t(cx.request.url());
        if url != cx.request.url() {
            cx.request.set_url(url);
        }
    }
    let (path, args) = lookup_path(&cx.request);
    cx.path = path;
    cx.args = args;
    cx.captures = Captures::default();
    if let Some(Content::Form(pairs)) = &cx.content {
        for (k, v) in pairs {
            cx.args.push(k.clone(), v.clone());
        }
    }
}

/// Sets the path for status handlers and middleware when the server answers without
/// dispatching; the URL transformation is user code, so it runs guarded.
pub(crate) fn route_for_status(cx: &mut Context<'_>) {
    if cx.table.shapes_answers() {
        let _ = catch_unwind(AssertUnwindSafe(|| route_request(&mut *cx)));
    }
}

/// The response the server gives for `refusal` (status handlers may still shape it).
pub(crate) fn refusal_response(cx: &mut Context<'_>, refusal: Refusal) -> Response {
    route_for_status(cx);
    let r = cx.error_response(refusal.status, refusal.reason);
    if refusal.status == 503 {
        r.with_header("Retry-After", "1")
    } else {
        r
    }
}

/// Runs user code that makes a response; a panic becomes a 500 (or, after a head was
/// written, a closed connection) and a call of the error hook.
fn guarded(cx: &mut Context<'_>, f: impl FnOnce(&mut Context<'_>) -> Response) -> Response {
    match catch_unwind(AssertUnwindSafe(|| f(&mut *cx))) {
        Ok(r) => r,
        Err(payload) => panicked(cx, payload),
    }
}

/// The answer to a panic in user code (a handler, a status handler, middleware): reported
/// to the log and the error hook, a responder it took abandoned, and a 500 — or, after a
/// head was written, a connection to close.
fn panicked(cx: &mut Context<'_>, payload: Box<dyn Any + Send>) -> Response {
    let message = panic_message(&*payload);
    let event = ErrorEvent::HandlerPanic { request: &cx.request, peer: cx.peer, message: &message };
    event.log();
    if let Some(h) = cx.table.error_hook.clone() {
        let _ = catch_unwind(AssertUnwindSafe(|| h(&event)));
    }
    if let Some(p) = cx.deferred.take() {
        p.abandon();
    }
    if cx.written.is_some() {
        cx.panicked = true;
        Response::written()
    } else {
        cx.error_response(500, "Internal Server Error")
    }
}

/// Dispatches the context's request to its handler, guarded.
fn dispatch_guarded(cx: &mut Context<'_>) -> Response {
    guarded(cx, |cx| {
        route_request(cx);
        dispatch(cx)
    })
}

/// From a request (or a first response the server made itself) to the response to send:
/// the middleware around all of it (the layers see the request routed: its path decoded,
/// after the URL transformation), and inside, the dispatch and what [`shape`] does.
pub(crate) fn respond(cx: &mut Context<'_>, first: Option<Response>, can_dispatch: bool) -> Response {
    let table = cx.table;
    if table.middleware.is_empty() {
        let response = match first {
            Some(r) => r,
            None => dispatch_guarded(cx),
        };
        return shape(cx, response, can_dispatch);
    }
    let mut first = first.or_else(|| {
        let routed = catch_unwind(AssertUnwindSafe(|| route_request(&mut *cx)));
        routed.err().map(|payload| panicked(cx, payload))
    });
    let mut inner = |cx: &mut Context<'_>| {
        let response = match first.take() {
            Some(r) => r,
            None => guarded(cx, dispatch),
        };
        shape(cx, response, can_dispatch)
    };
    let response = run_chain(cx, &table.middleware, &mut inner, panicked);
    if response.pass().is_some() {
        // `next` and `restart` are for handlers: a layer that returns one has nowhere to go.
        return cx.error_response(500, "Internal Server Error");
    }
    response
}

/// A handler's response made final: `next` past the last route (404), restarts (bounded),
/// then the status handler of the final status, once.
fn shape(cx: &mut Context<'_>, mut response: Response, can_dispatch: bool) -> Response {
    let mut restarts = 0;
    let mut shaped = false;
    loop {
        if cx.written.is_some() || cx.deferred.is_some() {
            return response;
        }
        match response.take_pass() {
            Some(Pass::Next) => response = cx.error_response(404, "Not Found"),
            Some(Pass::Restart(url)) if can_dispatch && restarts < MAX_RESTARTS => {
                restarts += 1;
                shaped = false;
                cx.request.set_url(url);
                response = dispatch_guarded(cx);
                continue;
            }
            Some(Pass::Restart(_)) => response = cx.error_response(500, "Internal Server Error"),
            None => {}
        }
        if shaped || cx.table.status_handlers.is_empty() {
            return response;
        }
        shaped = true;
        let Some(h) = cx.table.status_handlers.get(&response.status).cloned() else { return response };
        response = guarded(cx, move |cx| h(cx, response));
    }
}

/// How the connection closes after a handler's run: as decided before it, unless the
/// handler panicked or the server began to stop meanwhile.
pub(crate) fn run_close(engine: &Engine, panicked: bool, close: Option<CloseReason>) -> Option<CloseReason> {
    if panicked {
        Some(CloseReason::HandlerPanicked)
    } else if close.is_none() && engine.stopping() {
        Some(CloseReason::ShuttingDown)
    } else {
        close
    }
}

/// What sending a response came to: its status, the body bytes it sends, and a body left
/// for the engine to write.
pub(crate) struct Sent {
    status: u16,
    bytes: u64,
    body: Option<OutBody>,
}

/// Writes a response into the worker's buffer (unless the handler wrote its own head) and
/// settles how the connection goes on (`close`).
pub(crate) fn send(
    engine: &Engine,
    cx: &mut Context<'_>,
    r: &mut Response,
    close: &mut Option<CloseReason>,
) -> Sent {
    if let Some(head) = cx.written.take() {
        match head.framing {
            BodyFraming::Length(n) if head.sent == n => {}
            BodyFraming::NoBody => {}
            _ => *close = close.or(Some(CloseReason::ResponseUntilClose)),
        }
        return Sent { status: head.status, bytes: head.sent, body: None };
    }
    if r.close || !r.headers.is_empty() && r.headers.connection_has("close") {
        *close = close.or(Some(CloseReason::RequestedByHandler));
    }
    let (method, version) = (cx.request.method(), cx.request.version());
    #[cfg(feature = "gzip")]
    if engine.settings.compression {
        crate::handler::compress::maybe_gzip(r, method, cx.request.headers());
    }
    let status = r.status;
    let wire = cx.body.get_mut();
    // A streamed body runs user code (a writer): keep its panics in.
    let written =
        catch_unwind(AssertUnwindSafe(|| write_response(&engine.site, wire, method, version, r, close)));
    match written {
        Ok(Ok(sent)) => Sent { status, bytes: sent.bytes, body: sent.body },
        Ok(Err(_)) => {
            *close = Some(CloseReason::WriteFailed);
            Sent { status, bytes: 0, body: None }
        }
        Err(payload) => {
            let message = panic_message(&*payload);
            let event = ErrorEvent::HandlerPanic { request: &cx.request, peer: cx.peer, message: &message };
            hook_error(engine, &event);
            *close = Some(CloseReason::HandlerPanicked);
            Sent { status, bytes: 0, body: None }
        }
    }
}

/// Ends a request's run once its response is in the worker's buffer: the worker free, the
/// log written (or held until the engine has sent the body), the record's buffers kept for
/// the next request, and the answer handed on.
pub(crate) fn finish(w: &mut Worker<'_>, mut f: Box<InFlight>, peer: &PeerAddr, sent: Sent) -> Answer {
    w.mark_idle();
    f.release_shares();
    let Sent { status, bytes, body } = sent;
    let body = body.map(Box::new);
    let (close, linger) = (f.close, f.linger);
    let log = if !logged(&f) {
        w.spare = Some(f);
        None
    } else if body.is_some() {
        if matches!(body.as_deref(), Some(OutBody::Feed(_))) {
            // A stream may last for hours: it is logged as it starts, and again as it ends.
            log_record(&f, peer, status, 0, true);
        }
        Some(LateLog::new(f, peer.clone(), status, bytes))
    } else {
        log(&f, peer, status, bytes);
        w.spare = Some(f);
        None
    };
    Answer { body, log, close, linger }
}
