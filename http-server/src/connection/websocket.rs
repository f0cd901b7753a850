//! The `Socket` phase: a WebSocket the engine holds. Each turn reads what the peer sent
//! (messages go to the socket's handler on this worker, pings are answered, the closing
//! handshake is run), writes what the application queued, sends a ping when the peer has
//! been silent, and parks — the socket costs no thread between messages.
//!
//! ```text
//!   Open ──app's close / handler panic / shutdown──► Closing (our close out; theirs awaited,
//!    │                                                 messages dropped, close_timeout)
//!    │                                                      │ their close
//!    └──their close (echoed) / a protocol error (1002, 1007, 1009)──► Last ──out──► Linger
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

#[cfg(feature = "gzip")]
use http_utils::websocket::PerMessageDeflate;
use http_utils::websocket::{
    encode_close, encode_frame, CloseFrame, Limits, Message, MessageReader, Opcode, Role,
};

use super::log::panic_message;
use super::worker::Worker;
use super::{hook_error, CloseReason, Conn, Next, Phase};
use crate::handler::hooks::ErrorEvent;
use crate::handler::websocket::{SocketStart, Taken, WebSocket, WebSocketHandler};
use crate::io::attempt::{attempt, attempt_flush, Attempt};
use crate::io::budget::Share;
use crate::io::wire::Progress;

/// At most this many messages are delivered in one turn before the socket gives way.
const MESSAGES_PER_TURN: u32 = 32;
/// How much the read buffer may hold while frames are read.
const READ_MAX: usize = 64 * 1024;
/// How much of the queue is taken into the output at once.
const TAKE_MAX: usize = 256 * 1024;
/// How long a quiet socket without pings stays parked before it is looked at again.
const IDLE_RECHECK: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// Our close frame is out or on its way (since then); the peer's is awaited.
    Closing(Instant),
    /// The last frame is in the output: the connection closes once it is out.
    Last,
}

/// A WebSocket the engine holds.
pub(crate) struct Live {
    ws: WebSocket,
    handler: Box<dyn WebSocketHandler>,
    reader: MessageReader,
    /// Bytes to write (frames taken from the queue, and the engine's own control frames),
    /// from `pos` on.
    out: Vec<u8>,
    pos: usize,
    progress: Progress,
    /// When writing must have moved on by, while the socket takes nothing.
    write_deadline: Option<Instant>,
    /// When the peer was last heard from, and when it was pinged since.
    heard: Instant,
    pinged: Option<Instant>,
    state: State,
    peer_close: Option<CloseFrame>,
    ping_every: Option<Duration>,
    pong_timeout: Duration,
    close_timeout: Duration,
    capacity: usize,
    opened: bool,
    ended: bool,
    /// The last read found the socket empty: until the socket reports input, a turn that
    /// was only scheduled (the queue, a clock) need not read.
    drained: bool,
    _share: Share,
}

impl Live {
    /// The socket of a connection whose `101` is out.
    pub(crate) fn new(w: &Worker<'_>, conn: &Conn, start: SocketStart, share: Share) -> Live {
        let poller = w.engine.poller_of(w.key).clone();
        let options = &start.options;
        let max = options.get_max_message();
        let reader = MessageReader::new(Role::Server, Limits { max_frame: max as u64, max_message: max });
        #[cfg(feature = "gzip")]
        let (deflater, reader) = match start.deflate {
            Some(params) => {
                let (deflater, inflater) = PerMessageDeflate::new(&params, Role::Server).split();
                (Some(deflater), reader.with_inflater(inflater))
            }
            None => (None, reader),
        };
        let ws = WebSocket::new(
            w.key,
            poller,
            options.get_capacity(),
            start.protocol,
            conn.peer.clone(),
            #[cfg(feature = "gzip")]
            deflater,
        );
        Live {
            ws,
            handler: start.handler,
            reader,
            out: Vec::new(),
            pos: 0,
            progress: Progress::default(),
            write_deadline: None,
            heard: w.engine.site.clock.now(),
            pinged: None,
            state: State::Open,
            peer_close: None,
            ping_every: options.get_ping_every(),
            pong_timeout: options.get_pong_timeout(),
            close_timeout: options.get_close_timeout(),
            capacity: options.get_capacity(),
            opened: false,
            ended: false,
            drained: false,
            _share: share,
        }
    }

    /// True while output waits for room on the socket.
    pub(crate) fn waits_for_room(&self) -> bool {
        self.pos < self.out.len()
    }

    /// True once the closing handshake has begun: a shutdown lets it finish.
    pub(crate) fn is_closing(&self) -> bool {
        self.state != State::Open
    }

    /// True while the peer's frames are read: not after the last frame, and not while
    /// the output is backed up (a peer that sends faster than it reads is slowed by TCP).
    fn reads(&self) -> bool {
        self.state != State::Last && self.out.len() - self.pos < self.capacity && !self.ws.outbox().is_full()
    }

    /// Starts the closing handshake with `close`, dropping what is queued.
    fn begin_close(&mut self, close: &CloseFrame, now: Instant) {
        self.ws.outbox().shut();
        let _ = encode_close(Some(close), None, &mut self.out);
        self.state = State::Closing(now);
    }

    /// Ends the socket on a protocol breach or the peer's close: `close` is the last frame.
    fn last(&mut self, close: Option<&CloseFrame>) {
        self.ws.outbox().shut();
        let _ = encode_close(close, None, &mut self.out);
        self.state = State::Last;
    }

    /// Runs one of the handler's callbacks on this worker, marked busy (it is user code),
    /// its sends marked as its own; a panic starts the closing handshake with 1011.
    fn call(&mut self, w: &mut Worker<'_>, f: impl FnOnce(&mut dyn WebSocketHandler, &WebSocket)) {
        w.mark_busy();
        let Live { ws, handler, .. } = self;
        let r = ws.delivering(|| catch_unwind(AssertUnwindSafe(|| f(&mut **handler, ws))));
        w.mark_idle();
        if let Err(payload) = r {
            let message = panic_message(&*payload);
            hook_error(
                w.engine,
                &ErrorEvent::UpgradePanic { peer: self.ws.peer(), protocol: "websocket", message: &message },
            );
            if self.state == State::Open {
                let now = w.engine.site.clock.now();
                self.begin_close(&CloseFrame { code: 1011, reason: "internal error".into() }, now);
            }
        }
    }

    /// The socket is done: its handler told (once), its senders failed.
    fn end(&mut self, w: &mut Worker<'_>) {
        self.ws.outbox().shut();
        if !std::mem::replace(&mut self.ended, true) {
            let close = self.peer_close.take();
            self.call(w, |h, ws| h.on_close(ws, close));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Closed by the server (the end of a shutdown) rather than in a turn.
        self.ws.outbox().shut();
        if !self.ended {
            let Live { ws, handler, .. } = self;
            let _ = catch_unwind(AssertUnwindSafe(|| handler.on_close(ws, None)));
        }
    }
}

/// What reading came to.
enum Read {
    /// The socket would block: its next bytes will be reported.
    Blocked,
    /// Reading stopped before the socket would block (the output is backed up, or the last
    /// frame is out): bytes may wait on the socket that no report will announce.
    Paused,
    /// Messages are left: give way to other connections, then go on.
    More,
    /// The connection is gone.
    Gone(CloseReason),
}

/// One turn of a WebSocket: read and deliver, timers, write; then park, give way or close.
pub(super) fn turn(w: &mut Worker<'_>, conn: &mut Conn, mut live: Box<Live>) -> Next {
    let now = w.engine.site.clock.now();
    if !live.opened {
        live.opened = true;
        live.call(w, |h, ws| h.on_open(ws));
    }
    if w.engine.stopping() && live.state == State::Open {
        live.begin_close(&CloseFrame { code: 1001, reason: "server shutting down".into() }, now);
    }
    let read = if !live.reads() {
        Read::Paused
    } else if live.drained && w.resumed && w.rbuf.is_empty() {
        Read::Blocked
    } else {
        read(w, conn, &mut live)
    };
    live.drained = matches!(read, Read::Blocked);
    if let Read::Gone(reason) = read {
        return finish(w, live, Next::Close(reason));
    }
    if let Some(expired) = timers(&mut live, w.engine.site.clock.now()) {
        return finish(w, live, Next::Close(expired));
    }
    let pos_before = live.pos;
    match pump(conn, &mut live, now) {
        Ok(true) => return park_blocked(w, conn, live, pos_before),
        Ok(false) => {}
        Err(reason) => return finish(w, live, Next::Close(reason)),
    }
    live.write_deadline = None;
    live.progress = Progress::default();
    if live.state == State::Last {
        return finish(w, live, Next::Linger(CloseReason::WebSocketEnded));
    }
    match read {
        // The output is written down: reading goes on after the other connections.
        Read::More | Read::Paused => Next::Yield(Phase::Socket(live)),
        _ => park_idle(w, conn, live),
    }
}

/// Ends the socket and goes on with `next` (a close, or a linger once the last frame is out).
fn finish(w: &mut Worker<'_>, mut live: Box<Live>, next: Next) -> Next {
    live.end(w);
    next
}

/// Reads what the peer sent until the socket would block, delivering each message.
fn read(w: &mut Worker<'_>, conn: &mut Conn, live: &mut Live) -> Read {
    let mut delivered = 0;
    loop {
        while !w.rbuf.is_empty() && live.reads() {
            match live.reader.read(w.rbuf.available()) {
                Ok((used, message)) => {
                    w.rbuf.consume(used);
                    match message {
                        Some(m) => {
                            delivered += 1;
                            on_message(w, live, m);
                        }
                        None if used == 0 => break,
                        None => {}
                    }
                }
                Err(e) => {
                    log::debug!(target: "http_server", "{}: WebSocket closed: {e}", conn.peer);
                    live.last(Some(&CloseFrame { code: e.close_code(), reason: e.description().into() }));
                }
            }
        }
        if !live.reads() {
            return Read::Paused;
        }
        if delivered >= MESSAGES_PER_TURN {
            return Read::More;
        }
        match attempt(|| w.rbuf.read_from(&mut *conn.io, READ_MAX)) {
            Ok(Attempt::Done(_)) => {
                live.heard = w.engine.site.clock.now();
                live.pinged = None;
            }
            Ok(Attempt::Blocked) => return Read::Blocked,
            Ok(Attempt::Closed) => return Read::Gone(CloseReason::PeerClosed),
            Err(_) => return Read::Gone(CloseReason::ReadFailed),
        }
    }
}

/// What the engine does with one message from the peer.
fn on_message(w: &mut Worker<'_>, live: &mut Live, message: Message) {
    match message {
        Message::Ping(payload) if live.state == State::Open => {
            let _ = encode_frame(true, Opcode::Pong, &payload, None, &mut live.out);
        }
        Message::Ping(_) | Message::Pong(_) => {}
        Message::Close(close) => {
            live.peer_close = close.clone();
            match live.state {
                // The handshake is complete: the connection closes once our close is out.
                State::Closing(_) => live.state = State::Last,
                // Echo the code (RFC 6455 §5.5.1).
                _ => live.last(close.map(|c| CloseFrame { code: c.code, reason: String::new() }).as_ref()),
            }
        }
        // Messages after our close frame are dropped (RFC 6455 §1.4).
        m if live.state == State::Open => live.call(w, |h, ws| h.on_message(ws, m)),
        _ => {}
    }
}

/// Checks the socket's clocks: `Some` when it must close (its peer stopped answering); a
/// ping goes into the output when the peer has been silent long enough.
fn timers(live: &mut Live, now: Instant) -> Option<CloseReason> {
    if let State::Closing(since) = live.state {
        if now >= since + live.close_timeout {
            return Some(CloseReason::WebSocketEnded);
        }
    }
    if let Some(pinged) = live.pinged {
        if now >= pinged + live.pong_timeout {
            return Some(CloseReason::IdleTimeout);
        }
    }
    if let (State::Open, None, Some(every)) = (live.state, live.pinged, live.ping_every) {
        if now >= live.heard + every {
            let _ = encode_frame(true, Opcode::Ping, b"", None, &mut live.out);
            live.pinged = Some(now);
        }
    }
    None
}

/// Writes the output, then what the queue holds, until the socket is full (`true`) or
/// everything is out (`false`).
fn pump(conn: &mut Conn, live: &mut Live, now: Instant) -> Result<bool, CloseReason> {
    loop {
        while live.pos < live.out.len() {
            match attempt(|| conn.io.write(&live.out[live.pos..])) {
                Ok(Attempt::Done(n)) => {
                    live.pos += n;
                    live.progress.add(n);
                }
                Ok(Attempt::Blocked) => return Ok(true),
                Ok(Attempt::Closed) | Err(_) => return Err(CloseReason::WriteFailed),
            }
        }
        live.out.clear();
        live.pos = 0;
        if live.state == State::Last {
            break;
        }
        match live.ws.outbox().take_into(&mut live.out, TAKE_MAX) {
            Taken::Data => {}
            Taken::Close(close) => live.begin_close(&close, now),
            Taken::Idle | Taken::Closed => break,
        }
    }
    if live.out.capacity() > 4096 {
        // A quiet socket keeps no large buffer.
        live.out = Vec::new();
    }
    match attempt_flush(|| conn.io.flush()) {
        Ok(done) => Ok(!done),
        Err(_) => Err(CloseReason::WriteFailed),
    }
}

/// Parks a socket whose output waits for room: within the write timeout (and minimum rate)
/// while writing moves on; closed once it has not for that long.
fn park_blocked(w: &mut Worker<'_>, conn: &mut Conn, mut live: Box<Live>, pos_before: usize) -> Next {
    let now = w.engine.site.clock.now();
    let moved = live.pos != pos_before;
    if let Some(deadline) = live.write_deadline.filter(|_| !moved) {
        if now >= deadline {
            return finish(w, live, Next::Close(CloseReason::WriteFailed));
        }
    } else {
        let t = &w.engine.wire.timeouts;
        match live.progress.deadline(
            now,
            t.write,
            t.min_write_rate,
            t.write,
            "the peer reads below the minimum rate",
        ) {
            Ok(deadline) => live.write_deadline = Some(deadline),
            Err(_) => return finish(w, live, Next::Close(CloseReason::WriteFailed)),
        }
    }
    conn.deadline = wake_at(&live, now);
    Next::Park(Phase::Socket(live))
}

/// Parks a socket with nothing to write, until the peer sends, the application queues, or
/// one of its clocks is due.
fn park_idle(w: &mut Worker<'_>, conn: &mut Conn, live: Box<Live>) -> Next {
    conn.deadline = wake_at(&live, w.engine.site.clock.now());
    Next::Park(Phase::Socket(live))
}

/// The first of the socket's clocks to come due.
fn wake_at(live: &Live, now: Instant) -> Instant {
    let mut at = now + IDLE_RECHECK;
    let mut due = |t: Instant| at = at.min(t.max(now));
    if let Some(d) = live.write_deadline {
        due(d);
    }
    if let State::Closing(since) = live.state {
        due(since + live.close_timeout);
    }
    match (live.pinged, live.ping_every) {
        (Some(pinged), _) => due(pinged + live.pong_timeout),
        (None, Some(every)) if live.state == State::Open => due(live.heard + every),
        _ => {}
    }
    at
}
