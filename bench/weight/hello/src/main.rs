//! The README's hello world through the facade, with its default features.
use http_toolkit::server::{Response, Server};

fn main() -> std::io::Result<()> {
    let server = Server::builder().port(4242).build()?;
    server.add_resource(["/", "/index.html"], |_req, _args| Response::html("<h1>Hello, world!</h1>"));
    server.run_until_signal()
}
