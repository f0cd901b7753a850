//! Shared helpers for the peer programs.

/// The port from the first argument, `--port N`, or `PORT`, else `default`.
pub fn port_arg(default: u16) -> u16 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--port" {
            if let Some(p) = it.next().and_then(|p| p.parse().ok()) {
                return p;
            }
        } else if let Ok(p) = a.parse() {
            return p;
        }
    }
    std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(default)
}
