//! Instances of the `service` example as separate processes: started on a port of their own,
//! with `SO_REUSEPORT`, or on a listening socket handed over the way systemd does it
//! (`LISTEN_FDS`, `LISTEN_PID`, the socket as descriptor 3); stopped with signals.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The `service` example, built by `cargo test` next to the test binaries.
pub fn service_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let path = exe.parent().and_then(|p| p.parent()).expect("target dir").join("examples").join("service");
    assert!(path.exists(), "the service example is not built at {}", path.display());
    path
}

/// A running instance; killed (SIGKILL) if still running when dropped.
pub struct Instance {
    pub child: Child,
    pub name: String,
    /// What it printed after "listening on", for the first listener.
    pub listening: String,
}

/// Where an instance gets its socket.
pub enum Socket<'a> {
    /// `--port N --bind 127.0.0.1`, with `SO_REUSEPORT` when true.
    Port(u16, bool),
    /// A listening socket handed over as descriptor 3, systemd style.
    #[cfg(unix)]
    HandedOver(&'a std::net::TcpListener),
}

impl Instance {
    /// Starts the service with `args` after the socket's, and waits (at most 20 s) until it
    /// says it listens.
    pub fn start(name: &str, socket: Socket<'_>, args: &[&str], envs: &[(&str, &str)]) -> Instance {
        let bin = service_binary();
        let mut cmd = match socket {
            Socket::Port(port, reuse) => {
                let mut c = Command::new(&bin);
                c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
                if reuse {
                    c.arg("--reuse-port");
                }
                c
            }
            #[cfg(unix)]
            Socket::HandedOver(listener) => {
                use std::os::fd::AsRawFd;
                // The socket must survive exec: clear close-on-exec, then let a shell put it
                // at descriptor 3 and name its own process id (which exec keeps) in LISTEN_PID.
                rustix::io::fcntl_setfd(listener, rustix::io::FdFlags::empty()).expect("clear close-on-exec");
                let fd = listener.as_raw_fd();
                // bash, not sh: dash reads only one-digit descriptors in a redirection.
                let mut c = Command::new("bash");
                c.arg("-c").arg(format!("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\" 3<&{fd}")).arg(&bin);
                c
            }
        };
        cmd.args(["--name", name]).args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("start");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep reading so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx.recv_timeout(Duration::from_secs(20)).expect("the service says it listens");
        let listening = first.split("listening on ").nth(1).unwrap_or_default().to_owned();
        Instance { child, name: name.to_owned(), listening }
    }

    /// Sends `signal` (such as "TERM") to the instance.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {}", self.child.id()))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits at most `limit` for the instance to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return Some(s);
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
