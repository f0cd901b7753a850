//! The PROXY protocol header: `parse_proxy_header` on any bytes.
//!
//! Invariants:
//! - never a panic; a complete header uses at least 8 and at most `MAX_HEADER` bytes, no
//!   more than were given, and parses the same from exactly those bytes (what follows does
//!   not change it);
//! - every prefix shorter than `used` is partial (`Ok(None)`), or the same error for an
//!   error; a v1 header is one line of at most 107 bytes ending in CRLF;
//! - addresses, when given, are both IPv4 or both IPv6.

#![no_main]

use http_server::{parse_proxy_header, ProxyHeaderError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_proxy_header(data) {
        Ok(Some(h)) => {
            assert!(h.used >= 8 && h.used <= data.len() && h.used <= 4096);
            assert_eq!(parse_proxy_header(&data[..h.used]), Ok(Some(h)));
            if data.starts_with(b"PROXY ") {
                assert!(h.used <= 107 && data[..h.used].ends_with(b"\r\n"));
                assert_eq!(data[..h.used - 2].iter().position(|&b| b == b'\r' || b == b'\n'), None);
            }
            if let Some((src, dst)) = h.addresses {
                assert_eq!(src.is_ipv4(), dst.is_ipv4());
            }
            for cut in [0, 1, h.used / 2, h.used - 1] {
                assert_eq!(parse_proxy_header(&data[..cut]), Ok(None), "cut at {cut}");
            }
        }
        Ok(None) => assert!(data.len() < 4096 + 16),
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if e == ProxyHeaderError::TooLong {
                assert!(data.len() >= 16);
            }
        }
    }
});
