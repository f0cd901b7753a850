//! The one rule for tests that need a program from outside the project (nginx, HAProxy,
//! tinyproxy, curl, chromium, systemd-socket-activate, Python with `websockets`): the test finds
//! it here. When it is missing, outside CI the test prints a loud `SKIPPED` line to stderr and
//! returns, so that the README's `cargo test --workspace` passes on a fresh machine; in CI
//! (`HTTP_TOOLKIT_CI` set, as `.ci/run` does, which also installs every such program) it fails.

#![allow(dead_code)]

pub mod chromium;

use std::io::Write;
use std::path::PathBuf;

/// True in CI: `HTTP_TOOLKIT_CI` is set to something other than empty or `0`.
pub fn in_ci() -> bool {
    std::env::var_os("HTTP_TOOLKIT_CI").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Where `program` is: a directory of `PATH`, or `/usr/sbin` and `/sbin`, where Debian puts
/// nginx and HAProxy and which a user's `PATH` often lacks.
pub fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].into_iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// `program` for the test `test`, or `None` after [`missing`] said why.
pub fn require(test: &str, program: &str, install: &str) -> Option<PathBuf> {
    let found = find(program);
    if found.is_none() {
        missing(test, program, install);
    }
    found
}

/// Says that `test` cannot run without `what`: a loud line on stderr, or in CI a failure.
///
/// # Panics
/// In CI (see [`in_ci`]).
pub fn missing(test: &str, what: &str, install: &str) {
    let line = format!("SKIPPED: {test} needs {what} (install: {install})");
    assert!(!in_ci(), "{line}; HTTP_TOOLKIT_CI is set, so a missing program fails the test");
    // Straight to the process's stderr: the test harness keeps what `eprintln!` prints from a
    // passing test to itself.
    let _ = writeln!(std::io::stderr(), "\n*** {line} ***\n");
}

/// `python3` for the test `test` when it can import Python's websockets package (`module`,
/// such as `websockets.sync.client`), or `None` after [`missing`] said which is lacking.
pub fn python_websockets(test: &str, module: &str) -> Option<PathBuf> {
    let python = require(test, "python3", "apt-get install python3")?;
    let have = std::process::Command::new(&python).args(["-c", &format!("import {module}")]).status();
    if !have.is_ok_and(|s| s.success()) {
        missing(test, "Python's websockets package", "python3 -m pip install websockets");
        return None;
    }
    Some(python)
}
