//! The notes example as a separate process: started on a free port for one allowed origin
//! and bearer token, stopped with SIGTERM, killed if still running when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{printed_port, stop_with_sigterm};

/// The running example.
pub struct Notes {
    child: Child,
    /// `http://127.0.0.1:PORT`, where its API answers.
    pub base: String,
}

impl Notes {
    /// Starts the example (`bin`, which [`example_binary`](super::example_binary) finds),
    /// allowing `origin` and taking `token`.
    pub fn start(bin: &Path, origin: &str, token: &str) -> Notes {
        let mut child = Command::new(bin)
            .args(["0", origin])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("static"))
            .stderr(Stdio::null())
            .env("NOTES_TOKEN", token)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let port = printed_port(&mut child);
        Notes { child, base: format!("http://127.0.0.1:{port}") }
    }

    /// Stops it with SIGTERM; its exit status and how long it took.
    pub fn stop(mut self) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let status = stop_with_sigterm(&mut self.child, "the example");
        (status.code(), started.elapsed())
    }
}

impl Drop for Notes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
