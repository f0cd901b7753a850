//! One GET through the facade's client (its default features: TLS, cookies, decoders, JSON).
fn main() -> Result<(), http_toolkit::client::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "http://localhost:4242/".to_owned());
    println!("{}", http_toolkit::client::get_text(url)?);
    Ok(())
}
