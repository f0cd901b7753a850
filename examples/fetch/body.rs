//! Request bodies of `fetch`: `-d` data joined by `&` (files and stdin streamed) and `-F`
//! multipart forms (files streamed with their length).

use std::fs::File;
use std::io::{self, Cursor, Read};

use http_client::Body;

use crate::args::{Data, Part};

/// Readers read one after the other.
struct Concat {
    parts: Vec<Box<dyn Read + Send>>,
    at: usize,
}

impl Read for Concat {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Bounded by the number of parts: each round reads from one or moves past it.
        while let Some(part) = self.parts.get_mut(self.at) {
            match part.read(buf)? {
                0 if !buf.is_empty() => self.at += 1,
                n => return Ok(n),
            }
        }
        Ok(0)
    }
}

/// A reader without CR and LF bytes (curl's `-d @FILE`).
struct StripNewlines<R>(R);

impl<R: Read> Read for StripNewlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Bounded by the input: each round reads some bytes or ends.
        loop {
            let n = self.0.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..n {
                if buf[i] != b'\r' && buf[i] != b'\n' {
                    buf[kept] = buf[i];
                    kept += 1;
                }
            }
            if kept > 0 {
                return Ok(kept);
            }
        }
    }
}

/// A reader and its length when known.
type Piece = (Box<dyn Read + Send>, Option<u64>);

fn bytes(b: impl Into<Vec<u8>>) -> Piece {
    let b = b.into();
    let len = b.len() as u64;
    (Box::new(Cursor::new(b)), Some(len))
}

fn open(path: &str) -> Result<(File, u64), String> {
    let file = File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let len = file.metadata().map_err(|e| format!("cannot read {path}: {e}"))?.len();
    Ok((file, len))
}

/// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`), a space as `+`,
/// as curl's `--data-urlencode` does.
fn escape(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for &c in b {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(c as char);
        } else if c == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// `--data-urlencode`'s argument, encoded.
fn urlencoded(spec: &str) -> Result<String, String> {
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"));
    let enc = |b: &[u8]| escape(b);
    let eq = spec.find('=');
    let at = spec.find('@');
    Ok(match (eq, at) {
        // 'name@FILE' (an '@' before any '='), or '@FILE'.
        (_, Some(a)) if eq.is_none_or(|e| a < e) => {
            let value = enc(&read(&spec[a + 1..])?);
            if a == 0 {
                value
            } else {
                format!("{}={value}", &spec[..a])
            }
        }
        (Some(0), _) => enc(&spec.as_bytes()[1..]),
        (Some(e), _) => format!("{}={}", &spec[..e], enc(&spec.as_bytes()[e + 1..])),
        (None, _) => enc(spec.as_bytes()),
    })
}

/// The body of `-d`, `--data-binary` and `--data-urlencode` pieces, joined by `&`.
pub fn data_body(data: &[Data]) -> Result<Body, String> {
    let mut pieces: Vec<Piece> = Vec::new();
    for (i, d) in data.iter().enumerate() {
        if i > 0 {
            pieces.push(bytes("&"));
        }
        pieces.push(match d {
            Data::Text(t) => bytes(t.as_str()),
            Data::Urlencode(spec) => bytes(urlencoded(spec)?),
            Data::File { path, strip: false } => {
                let (file, len) = open(path)?;
                (Box::new(file), Some(len))
            }
            Data::File { path, strip: true } => (Box::new(StripNewlines(open(path)?.0)), None),
            Data::Stdin { strip: false } => (Box::new(io::stdin()), None),
            Data::Stdin { strip: true } => (Box::new(StripNewlines(io::stdin())), None),
        });
    }
    Ok(join(pieces))
}

fn join(pieces: Vec<Piece>) -> Body {
    let len = pieces.iter().try_fold(0u64, |sum, (_, l)| l.map(|l| sum + l));
    let parts = pieces.into_iter().map(|(r, _)| r).collect();
    Body::stream(Concat { parts, at: 0 }, len)
}

/// A quoted name in a `Content-Disposition` field, as browsers write it (`"` and line breaks
/// percent-encoded).
fn quoted(name: &str) -> String {
    name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A")
}

/// The media type sent for a file, by its extension.
fn file_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A `multipart/form-data` body of `parts` and its boundary.
pub fn form_body(parts: &[Part]) -> Result<(Body, String), String> {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let boundary = format!("------------------------{:016x}", nanos ^ u128::from(std::process::id()) << 64);
    let mut pieces: Vec<Piece> = Vec::new();
    for part in parts {
        match part {
            Part::Value { name, value } => pieces.push(bytes(format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{value}\r\n",
                quoted(name)
            ))),
            Part::File { name, path } => {
                let (file, len) = open(path)?;
                let file_name =
                    std::path::Path::new(path).file_name().map(|f| f.to_string_lossy().into_owned());
                pieces.push(bytes(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                     Content-Type: {}\r\n\r\n",
                    quoted(name),
                    quoted(&file_name.unwrap_or_default()),
                    file_type(path)
                )));
                pieces.push((Box::new(file), Some(len)));
                pieces.push(bytes("\r\n"));
            }
        }
    }
    pieces.push(bytes(format!("--{boundary}--\r\n")));
    Ok((join(pieces), boundary))
}
