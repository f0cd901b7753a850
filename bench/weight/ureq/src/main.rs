//! One GET in ureq 3 (its default features: rustls, gzip).
fn main() -> Result<(), ureq::Error> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "http://localhost:4242/".to_owned());
    println!("{}", ureq::get(&url).call()?.body_mut().read_to_string()?);
    Ok(())
}
