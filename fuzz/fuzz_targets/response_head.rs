//! `parse_response_head` under default and tiny limits, whole and cut at a chosen offset.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((limits, split, msg)) = common::split_input(data) else { return };
    if let Ok(http_utils::Parsed::Complete { value: head, .. }) =
        common::check_prefix(msg, split, &limits, http_utils::parse_response_head)
    {
        common::check_headers(&head.headers, &limits);
        assert!((100..=999).contains(&head.status), "status {}", head.status);
        let _ = (head.keeps_alive(), head.is_interim());
    }
});
