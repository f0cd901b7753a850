//! `parse_headers` (a header section alone, as after a start line or in chunked trailers).

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((limits, split, msg)) = common::split_input(data) else { return };
    if let Ok(http_utils::Parsed::Complete { value: headers, .. }) =
        common::check_prefix(msg, split, &limits, http_utils::parse_headers)
    {
        common::check_headers(&headers, &limits);
    }
});
