//! The hello example with the `Server` field named on the command line:
//! `hello_named [--server-name NAME] --port N` (default `http-toolkit`, the hello example's
//! own). With `--server-name M` its answers are byte for byte as long as may_minihttp's hello
//! (`Server: M`), so a client that parses them does the same work for both: what
//! `bench/servers.py` compares where the client's core sets the rate (pipelined).
//!
//! `cargo build --profile release-lto --example hello_named` (in `bench/`).

use http_server::{Response, Server};

fn main() {
    let port = http_toolkit_bench::port_arg(4242);
    let mut args = std::env::args().skip(1);
    let mut name = String::from("http-toolkit");
    while let Some(a) = args.next() {
        if a == "--server-name" {
            name = args.next().expect("--server-name needs a name");
        }
    }
    let server = Server::builder().port(port).server_name(name).build().expect("listen");
    server.add_resource(["/", "/index.html"], |_req, _args| Response::html("<h1>Hello, world!</h1>"));
    server.run_until_signal().expect("serve");
}
