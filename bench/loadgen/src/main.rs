//! `loadgen --port P [--host 127.0.0.1] [--conns 256] [--depth 16] [--duration 10]
//! [--warmup 0] [--path /]`: loads an HTTP/1.1 server with pipelined GETs and prints one
//! `name value` line per figure (see `print`).

use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::Duration;

use bench_loadgen::{run, Config, Report};

const USAGE: &str = "usage: loadgen --port P [--host 127.0.0.1] [--conns 256] [--depth 16] \
                     [--duration 10] [--warmup 0] [--path /]";

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("loadgen: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&config) {
        Ok(report) => {
            print(&report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Config, String> {
    let (mut host, mut port, mut path) = ("127.0.0.1".to_string(), None, "/".to_string());
    let (mut conns, mut depth, mut duration, mut warmup) = (256usize, 16u32, 10.0f64, 0.0f64);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = || format!("{flag}: not a valid value: {value}");
        match flag.as_str() {
            "--host" => host = value,
            "--port" => port = Some(value.parse::<u16>().map_err(|_| bad())?),
            "--path" => path = value,
            "--conns" => conns = value.parse().map_err(|_| bad())?,
            "--depth" => depth = value.parse().map_err(|_| bad())?,
            "--duration" => duration = value.parse().map_err(|_| bad())?,
            "--warmup" => warmup = value.parse().map_err(|_| bad())?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    let port = port.ok_or("--port is required")?;
    if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("--path must start with / and hold no spaces or control characters".into());
    }
    let seconds = |s: f64, what| {
        Duration::try_from_secs_f64(s).map_err(|_| format!("{what}: not a number of seconds: {s}"))
    };
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("--host {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("--host {host}: no address"))?;
    Ok(Config {
        addr,
        // As wrk writes it: the host and the port.
        host: format!("{host}:{port}"),
        path,
        conns,
        depth,
        duration: seconds(duration, "--duration")?,
        warmup: seconds(warmup, "--warmup")?,
    })
}

/// One `name value` line per figure, for scripts.
fn print(r: &Report) {
    let seconds = r.elapsed.as_secs_f64();
    let answers = r.responses();
    println!("requests {answers}");
    println!("seconds {seconds:.3}");
    println!("req/s {:.0}", answers as f64 / seconds.max(1e-9));
    println!("non2xx {}", r.non2xx);
    println!("errors {}", r.errors);
    println!("reconnects {}", r.reconnects);
    if let Some(cpu) = r.cpu {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / answers.max(1) as f64;
        println!("cpu_busy_percent {:.1}", (cpu.user + cpu.kernel).as_secs_f64() * 100.0 / seconds.max(1e-9));
        println!("cpu_us_per_answer_user {:.4}", per(cpu.user));
        println!("cpu_us_per_answer_kernel {:.4}", per(cpu.kernel));
    }
}
