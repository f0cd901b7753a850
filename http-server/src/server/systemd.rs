//! systemd: readiness notification (`sd_notify`) and the listening sockets systemd hands
//! over (socket activation, `LISTEN_FDS`).
//!
//! Under a service manager that speaks the notify protocol (`Type=notify` units; `NOTIFY_SOCKET`
//! is set), the server sends `READY=1` once its threads run and `STOPPING=1` when its
//! shutdown begins. Without `NOTIFY_SOCKET` nothing is sent. On systems other than Unix
//! these are no-ops.

#[cfg(unix)]
use std::io;

/// Sends `state` (such as `"READY=1"`) to the service manager, if there is one; errors are
/// ignored, as a service must not fail because its manager went away.
pub(crate) fn notify(state: &str) {
    #[cfg(unix)]
    {
        let _ = send(state);
    }
    #[cfg(not(unix))]
    {
        let _ = state;
    }
}

/// Sends one datagram to `$NOTIFY_SOCKET`.
#[cfg(unix)]
fn send(state: &str) -> io::Result<()> {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(target) => send_to(&target, state),
        None => Ok(()),
    }
}

/// Sends `state` in one datagram to `target`: a path, or on Linux an abstract name (`@name`).
#[cfg(unix)]
fn send_to(target: &std::ffi::OsStr, state: &str) -> io::Result<()> {
    use std::os::unix::net::UnixDatagram;
    let socket = UnixDatagram::unbound()?;
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(target);
    match bytes.strip_prefix(b"@") {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Some(name) => {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            socket.send_to_addr(state.as_bytes(), &addr)?;
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Some(_) => return Err(io::ErrorKind::Unsupported.into()),
        None => {
            socket.send_to(state.as_bytes(), target)?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::send_to;

    #[test]
    fn notify_reaches_a_socket_at_a_path() {
        let dir = std::env::temp_dir().join(format!("http-server-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        send_to(path.as_os_str(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn notify_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("http-server-notify-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = std::os::unix::net::UnixDatagram::bind_addr(&addr).unwrap();
        send_to(std::ffi::OsStr::new(&format!("@{name}")), "STOPPING=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }
}

/// The listening sockets handed over by the service manager (`LISTEN_FDS` and `LISTEN_PID`
/// naming this process; socket activation), in their order: TCP and Unix stream listeners.
/// None when there are none. The variables are removed, so child processes do not take the
/// sockets for theirs.
///
/// # Errors
/// `InvalidInput` for a handed-over socket that is neither a TCP nor a Unix stream listener.
#[cfg(unix)]
pub(crate) fn listeners() -> io::Result<Vec<Box<dyn crate::io::transport::Listener>>> {
    use crate::io::transport::tcp_listener_from_std;
    use crate::io::transport::unix::unix_listener_from_std;
    let mut fds = listenfd::ListenFd::from_env();
    let mut out = Vec::with_capacity(fds.len());
    for i in 0..fds.len() {
        if let Ok(Some(l)) = fds.take_tcp_listener(i) {
            out.push(tcp_listener_from_std(l)?);
        } else if let Ok(Some(l)) = fds.take_unix_listener(i) {
            out.push(unix_listener_from_std(l)?);
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("socket {} handed over by the service manager is not a stream listener", i + 3),
            ));
        }
    }
    Ok(out)
}
