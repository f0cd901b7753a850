//! One GET through http-toolkit-client itself (not the facade) with no optional feature: plain HTTP.
fn main() -> Result<(), http_client::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "http://localhost:4242/".to_owned());
    println!("{}", http_client::get_text(url)?);
    Ok(())
}
