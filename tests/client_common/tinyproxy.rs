//! A tinyproxy on a free loopback port for the proxy tests (included with `#[path]` by the
//! tests that use it, which also declare `mod programs`).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::programs;

/// A tinyproxy running in the foreground on a free loopback port, killed on drop.
pub struct Tinyproxy {
    child: Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Tinyproxy {
    /// Starts tinyproxy, or returns `None` (after a loud notice) when it is not installed.
    /// In CI (`HTTP_TOOLKIT_CI` set) a missing tinyproxy fails the test instead.
    pub fn start(auth: Option<(&str, &str)>) -> Option<Tinyproxy> {
        Tinyproxy::start_allowing(auth, "127.0.0.1")
    }

    /// Starts tinyproxy serving only clients from `allow` (others get its 403).
    pub fn start_allowing(auth: Option<(&str, &str)>, allow: &str) -> Option<Tinyproxy> {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("http-client-tinyproxy-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut conf = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 50\nAllow {allow}\n\
             LogFile \"{log}\"\nLogLevel Info\nPidFile \"{pid}\"\n",
            log = dir.join("log").display(),
            pid = dir.join("pid").display(),
        );
        if let Some((user, pass)) = auth {
            conf.push_str(&format!("BasicAuth {user} {pass}\n"));
        }
        let conf_path = dir.join("tinyproxy.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let Some(program) =
            programs::require("client_proxy (tinyproxy interop)", "tinyproxy", "apt-get install tinyproxy")
        else {
            let _ = std::fs::remove_dir_all(&dir);
            return None;
        };
        let spawned = Command::new(program)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => panic!("cannot start tinyproxy: {e}"),
        };
        let proxy = Tinyproxy { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(5), "tinyproxy did not start listening");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }

    pub fn url(&self, creds: Option<&str>) -> String {
        match creds {
            Some(c) => format!("http://{c}@127.0.0.1:{}", self.port),
            None => format!("http://127.0.0.1:{}", self.port),
        }
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
