//! Head parsing: `http_utils::parse_request_head` / `parse_response_head` (owned, validated
//! headers) side by side with `httparse` (borrowed slices into the input) on the same bytes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use http_toolkit_bench::{REQUEST, RESPONSE};
use http_utils::{parse_request_head, parse_response_head, Limits};

fn ours_request(buf: &[u8], limits: &Limits) -> usize {
    let (req, used) = parse_request_head(buf, limits).unwrap().complete().unwrap();
    black_box(&req);
    used
}

fn httparse_request(buf: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let used = req.parse(buf).unwrap().unwrap();
    black_box(&req);
    used
}

fn ours_response(buf: &[u8], limits: &Limits) -> usize {
    let (head, used) = parse_response_head(buf, limits).unwrap().complete().unwrap();
    black_box(&head);
    used
}

fn httparse_response(buf: &[u8]) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut res = httparse::Response::new(&mut headers);
    let used = res.parse(buf).unwrap().unwrap();
    black_box(&res);
    used
}

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    // Both parsers agree on where the heads end.
    assert_eq!(ours_request(REQUEST, &limits), httparse_request(REQUEST));
    assert_eq!(ours_response(RESPONSE, &limits), httparse_response(RESPONSE));

    let mut g = c.benchmark_group("request_head");
    g.throughput(Throughput::Bytes(REQUEST.len() as u64));
    g.bench_function("http_utils", |b| b.iter(|| ours_request(black_box(REQUEST), &limits)));
    g.bench_function("httparse", |b| b.iter(|| httparse_request(black_box(REQUEST))));
    g.finish();

    let mut g = c.benchmark_group("response_head");
    g.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    g.bench_function("http_utils", |b| b.iter(|| ours_response(black_box(RESPONSE), &limits)));
    g.bench_function("httparse", |b| b.iter(|| httparse_response(black_box(RESPONSE))));
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
