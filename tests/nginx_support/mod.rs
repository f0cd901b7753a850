//! Debian's nginx for the tests that talk to it: one process in the foreground on a free
//! loopback port, its files in a directory of its own, killed on drop.

#[path = "../programs/mod.rs"]
mod programs;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running nginx.
pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Nginx {
    /// Starts nginx named `name` (its directory) with `worker_connections` and the rest of its
    /// `http` block made by `http(port)` (limits, upstreams, the `server` listening on `port`).
    /// `None`, with a loud line naming `what` is not tested, when nginx is not installed
    /// (outside CI; in CI a missing nginx fails).
    pub fn start(
        name: &str,
        worker_connections: u32,
        what: &str,
        http: impl FnOnce(u16) -> String,
    ) -> Option<Nginx> {
        let dir = std::env::temp_dir().join(format!("http-toolkit-nginx-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log;\nevents {{ worker_connections {worker_connections}; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}; proxy_temp_path {d};\n\
             fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n{}}}\n",
            http(port)
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let Some(binary) = programs::require(what, "nginx", "apt-get install nginx-light") else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Nginx { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(10), "nginx did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(nginx)
    }

    /// The URL of `path` on it.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
