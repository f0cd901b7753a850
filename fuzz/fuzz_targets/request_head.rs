//! `parse_request_head` under default and tiny limits, whole and cut at a chosen offset.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((limits, split, msg)) = common::split_input(data) else { return };
    if let Ok(http_utils::Parsed::Complete { value: req, .. }) =
        common::check_prefix(msg, split, &limits, http_utils::parse_request_head)
    {
        common::check_headers(req.headers(), &limits);
        assert!(!req.url().is_empty());
        let _ = (req.path(), req.query(), req.wants_keep_alive(), http_utils::check_host(&req));
        let (path, _args) = http_utils::decode_url(req.url());
        let _ = http_utils::normalize_path(&path);
    }
});
