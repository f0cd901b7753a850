//! HTTP/1.1 client (in progress).
