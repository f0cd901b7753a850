//! The command line of `fetch`: curl's options where it has them, with curl's meaning.

use http_client::Method;

/// What `-h` prints.
pub const USAGE: &str = "\
usage: fetch [options] URL...

  -X, --request METHOD      the method (default GET, or POST with a body)
  -H, --header 'Name: v'    add a header field; 'Name:' removes one the client would add
                            (User-Agent, Accept-Encoding) or an earlier -H; 'Name;' sends it empty
  -d, --data DATA           body data, urlencoded form type; @FILE reads a file and @- stdin,
                            without CR and LF; several -d are joined with '&'
      --data-binary DATA    the same, @FILE and @- sent byte for byte
      --data-urlencode D    'name=value', '=value', 'value', 'name@FILE' or '@FILE', the value
                            percent-encoded; joined with the other -d data by '&'
  -F, --form name=value     a multipart/form-data field; name=@FILE sends a file
  -u, --user USER:PASSWORD  Basic authentication (dropped, with -H Authorization, Cookie and
                            Proxy-Authorization, once a redirect leaves the scheme, host and
                            port of the URL given)
  -o, --output FILE         write the bodies to FILE instead of stdout
  -x, --proxy URL           send every request through this proxy: http://, socks5://,
                            socks5h://, socks4://, socks4a:// ('' for none); without it
                            http_proxy, https_proxy, all_proxy and no_proxy are read, as curl
                            reads them
      --noproxy HOSTS       hosts reached directly (comma-separated; '*' for all), for no_proxy
      --resolve H:P:A[,A]   connect to these addresses for host H instead of looking it up;
                            several are tried as Happy Eyeballs does (IPv6 first, the next
                            after 250 ms)
      --cacert FILE         trust the certificates in this PEM file
  -m, --max-time SECS       the overall time allowed for each URL
      --max-redirs N        most redirects followed per URL (default 10); past it, exit 47
  -i, --include             write every response head, redirects included, before the body
  -h, --help                this text

Bodies of @- are streamed, of any size (chunked); files are streamed with their length.

Where fetch differs from curl:
  - redirects are always followed (curl needs -L), at most 10 by default (curl's -L: 50);
    one from https to plain http is refused (curl follows it), and so is a Location with a
    user name or password in it;
  - @- is streamed, not read into memory first: a 307 or 308 after it cannot send the body
    again and exits 65 (curl sends it again);
  - --resolve applies to every port of the host, not only P;
  - HTTP_PROXY in upper case is read too, except under CGI (curl reads only http_proxy);
    a proxy setting that cannot be used (a malformed URL, an unknown scheme) is an error;
  - a status of 400 or more still prints the body, and makes the exit status 22 once every
    URL has been fetched (curl does so only with -f, and then prints no body);
  - gzip is asked for and decoded unless 'Accept-Encoding:' removes it (curl: --compressed);
  - -i writes header names in lower case, as the client reads them;
  - Host cannot be removed; -F takes no ';type=' or '<FILE'; -o applies to every URL.";

/// One piece of `-d`, `--data-binary` or `--data-urlencode` data.
#[derive(Debug, Clone)]
pub enum Data {
    /// Literal text.
    Text(String),
    /// A file's bytes; `strip` drops CR and LF (`-d @FILE`).
    File { path: String, strip: bool },
    /// Standard input, streamed; `strip` drops CR and LF.
    Stdin { strip: bool },
    /// `--data-urlencode`'s argument, encoded when the body is made.
    Urlencode(String),
}

/// One `-F` field.
#[derive(Debug, Clone)]
pub enum Part {
    /// `name=value`.
    Value { name: String, value: String },
    /// `name=@FILE`.
    File { name: String, path: String },
}

/// A header argument: a field to send, or one to remove (`Name:`).
#[derive(Debug, Clone)]
pub struct HeaderArg {
    pub name: String,
    /// `None`: remove the field.
    pub value: Option<String>,
}

/// Everything the command line says.
#[derive(Debug, Default)]
pub struct Options {
    pub method: Option<Method>,
    pub headers: Vec<HeaderArg>,
    pub data: Vec<Data>,
    pub form: Vec<Part>,
    pub user: Option<String>,
    pub output: Option<String>,
    pub proxy: Option<String>,
    pub noproxy: Option<String>,
    /// `--resolve HOST:PORT:ADDR[,ADDR]...`: the host and its addresses.
    pub resolve: Vec<(String, Vec<std::net::IpAddr>)>,
    pub cacert: Option<String>,
    pub max_time: Option<f64>,
    pub max_redirs: Option<u32>,
    pub include: bool,
    pub urls: Vec<String>,
}

impl Options {
    /// True when `-H 'Name:'` removed `name`.
    pub fn removes(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.value.is_none() && h.name.eq_ignore_ascii_case(name))
    }

    /// True when the request has a body.
    pub fn has_body(&self) -> bool {
        !self.data.is_empty() || !self.form.is_empty()
    }
}

/// `-d`'s argument: `@-`, `@FILE` or text.
fn data_arg(arg: String, binary: bool) -> Data {
    match arg.strip_prefix('@') {
        Some("-") => Data::Stdin { strip: !binary },
        Some(path) => Data::File { path: path.to_owned(), strip: !binary },
        None => Data::Text(arg),
    }
}

/// `--resolve`'s argument: `HOST:PORT:ADDR[,ADDR]...`, IPv6 addresses in brackets or not.
fn resolve_arg(arg: &str) -> Result<(String, Vec<std::net::IpAddr>), String> {
    let bad = || format!("bad --resolve {arg:?} (want HOST:PORT:ADDR[,ADDR]...)");
    let (host, rest) = arg.split_once(':').ok_or_else(bad)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(bad)?;
    port.parse::<u16>().map_err(|_| bad())?;
    let addrs = addrs
        .split(',')
        .map(|a| a.trim().trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| bad()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((host.to_owned(), addrs))
}

/// `-H`'s argument.
fn header_arg(h: &str) -> Result<HeaderArg, String> {
    if let Some(name) = h.strip_suffix(';').filter(|n| !n.contains(':')) {
        return Ok(HeaderArg { name: name.trim().to_owned(), value: Some(String::new()) });
    }
    let (n, v) = h.split_once(':').ok_or_else(|| format!("bad header {h:?} (want 'Name: value')"))?;
    let value = v.trim();
    Ok(HeaderArg { name: n.trim().to_owned(), value: (!value.is_empty()).then(|| value.to_owned()) })
}

/// Parses the arguments after the program name.
///
/// # Errors
/// A message for the user (the usage text for `-h`).
pub fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-X" | "--request" => {
                let m = value("-X")?;
                o.method = Some(m.parse().map_err(|_| format!("bad method {m:?}"))?);
            }
            "-H" | "--header" => o.headers.push(header_arg(&value("-H")?)?),
            "-d" | "--data" | "--data-ascii" => o.data.push(data_arg(value("-d")?, false)),
            "--data-binary" => o.data.push(data_arg(value("--data-binary")?, true)),
            "--data-raw" => o.data.push(Data::Text(value("--data-raw")?)),
            "--data-urlencode" => o.data.push(Data::Urlencode(value("--data-urlencode")?)),
            "-F" | "--form" => {
                let kv = value("-F")?;
                let (k, v) =
                    kv.split_once('=').ok_or_else(|| format!("bad form field {kv:?} (want name=value)"))?;
                o.form.push(match v.strip_prefix('@') {
                    Some(path) => Part::File { name: k.to_owned(), path: path.to_owned() },
                    None => Part::Value { name: k.to_owned(), value: v.to_owned() },
                });
            }
            "-u" | "--user" => o.user = Some(value("-u")?),
            "-o" | "--output" => o.output = Some(value("-o")?),
            "--proxy" | "-x" => o.proxy = Some(value("--proxy")?),
            "--noproxy" => o.noproxy = Some(value("--noproxy")?),
            "--resolve" => o.resolve.push(resolve_arg(&value("--resolve")?)?),
            "--cacert" => o.cacert = Some(value("--cacert")?),
            "--max-time" | "-m" => {
                let s = value("--max-time")?;
                let secs: f64 = s.parse().map_err(|_| format!("bad --max-time {s:?}"))?;
                if !(secs.is_finite() && secs > 0.0) {
                    return Err(format!("bad --max-time {s:?}"));
                }
                o.max_time = Some(secs);
            }
            "--max-redirs" => {
                let s = value("--max-redirs")?;
                o.max_redirs = Some(s.parse().map_err(|_| format!("bad --max-redirs {s:?}"))?);
            }
            "-i" | "--include" => o.include = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => o.urls.push(arg),
        }
    }
    if o.urls.is_empty() {
        return Err(USAGE.to_string());
    }
    if !o.data.is_empty() && !o.form.is_empty() {
        return Err("use either -d (and its kin) or -F, not both".to_string());
    }
    Ok(o)
}
