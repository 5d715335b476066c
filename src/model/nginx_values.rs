//! nginx's value syntaxes: times (`ngx_parse_time`), sizes (`ngx_parse_size`), and the
//! targets of `fastcgi_pass`, `proxy_pass` and their siblings (`ngx_parse_url`).

use crate::model::fpm::normalize_unix_path;

/// Parse an nginx time (`500ms`, `30s`, `1m30s`, `1h 30m`, a bare number means seconds)
/// into milliseconds, as `ngx_parse_time` does; `None` where nginx would refuse it.
pub fn parse_time_ms(s: &str) -> Option<u64> {
    // Units in the order nginx requires them (larger first), with their size in ms.
    const UNITS: [(&str, u64); 8] = [
        ("y", 365 * 24 * 3600 * 1000),
        ("M", 30 * 24 * 3600 * 1000),
        ("w", 7 * 24 * 3600 * 1000),
        ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000),
        ("m", 60 * 1000),
        ("s", 1000),
        ("ms", 1),
    ];
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut i = 0;
    let mut last_unit: Option<usize> = None;
    let mut any = false;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u64 = s[start..i].parse().ok()?;
        // The unit: `ms` must be checked before `m`.
        let rest = &s[i..];
        let unit = if rest.starts_with("ms") {
            Some(7)
        } else {
            UNITS.iter().position(|(u, _)| rest.starts_with(u))
        };
        match unit {
            Some(u) => {
                if last_unit.is_some_and(|l| u <= l) {
                    return None;
                }
                last_unit = Some(u);
                i += UNITS[u].0.len();
                total = total.checked_add(n.checked_mul(UNITS[u].1)?)?;
            }
            None => {
                // A bare number is seconds, and must be the last part.
                if i != bytes.len() || last_unit.is_some_and(|l| l >= 6) {
                    return None;
                }
                total = total.checked_add(n.checked_mul(1000)?)?;
            }
        }
        any = true;
    }
    any.then_some(total)
}

/// Parse an nginx size (`512`, `16k`, `1m`, upper or lower case) into bytes, as
/// `ngx_parse_size` does; `None` where nginx would refuse it.
pub fn parse_size(s: &str) -> Option<u64> {
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        _ => (s, 1),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// Format milliseconds the way a person writes an nginx time (`90s`, `2m`, `500ms`).
pub fn format_time_ms(ms: u64) -> String {
    if ms % 1000 != 0 {
        format!("{ms}ms")
    } else if ms % 60_000 == 0 && ms >= 60_000 && ms % 3_600_000 != 0 {
        format!("{}m", ms / 60_000)
    } else if ms % 3_600_000 == 0 && ms >= 3_600_000 {
        format!("{}h", ms / 3_600_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

/// Format bytes the way a person writes an nginx size (`16k`, `1m`, `100`).
pub fn format_size(bytes: u64) -> String {
    if bytes % (1024 * 1024) == 0 && bytes > 0 {
        format!("{}m", bytes / (1024 * 1024))
    } else if bytes % 1024 == 0 && bytes > 0 {
        format!("{}k", bytes / 1024)
    } else {
        bytes.to_string()
    }
}

/// The module a `*_pass` directive belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PassKind {
    /// `fastcgi_pass`.
    Fastcgi,
    /// `proxy_pass`.
    Proxy,
    /// `uwsgi_pass`.
    Uwsgi,
    /// `scgi_pass`.
    Scgi,
    /// `grpc_pass`.
    Grpc,
    /// `memcached_pass`.
    Memcached,
}

impl PassKind {
    /// The kind of pass directive `name`, if it is one.
    pub fn of(name: &str) -> Option<PassKind> {
        Some(match name {
            "fastcgi_pass" => PassKind::Fastcgi,
            "proxy_pass" => PassKind::Proxy,
            "uwsgi_pass" => PassKind::Uwsgi,
            "scgi_pass" => PassKind::Scgi,
            "grpc_pass" => PassKind::Grpc,
            "memcached_pass" => PassKind::Memcached,
            _ => return None,
        })
    }

    /// The directive's name.
    pub fn directive(self) -> &'static str {
        match self {
            PassKind::Fastcgi => "fastcgi_pass",
            PassKind::Proxy => "proxy_pass",
            PassKind::Uwsgi => "uwsgi_pass",
            PassKind::Scgi => "scgi_pass",
            PassKind::Grpc => "grpc_pass",
            PassKind::Memcached => "memcached_pass",
        }
    }

    /// The module's prefix of its directive names (`fastcgi` for `fastcgi_pass`).
    pub fn module(self) -> &'static str {
        match self {
            PassKind::Fastcgi => "fastcgi",
            PassKind::Proxy => "proxy",
            PassKind::Uwsgi => "uwsgi",
            PassKind::Scgi => "scgi",
            PassKind::Grpc => "grpc",
            PassKind::Memcached => "memcached",
        }
    }

    /// The module's `*_buffer_size` directive (the buffer for the response header).
    pub fn buffer_size_directive(self) -> &'static str {
        match self {
            PassKind::Fastcgi => "fastcgi_buffer_size",
            PassKind::Proxy => "proxy_buffer_size",
            PassKind::Uwsgi => "uwsgi_buffer_size",
            PassKind::Scgi => "scgi_buffer_size",
            PassKind::Grpc => "grpc_buffer_size",
            PassKind::Memcached => "memcached_buffer_size",
        }
    }

    /// The URL schemes the directive accepts (empty when it takes a bare address).
    pub fn schemes(self) -> &'static [&'static str] {
        match self {
            PassKind::Proxy => &["http://", "https://"],
            PassKind::Grpc => &["grpc://", "grpcs://"],
            PassKind::Uwsgi => &["uwsgi://", "suwsgi://"],
            _ => &[],
        }
    }
}

/// Where a `*_pass` sends requests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A unix socket, path normalised as FPM's listen paths are (`/var/run` is `/run`), so
    /// the two sides compare equal.
    Unix(String),
    /// A host (name or literal address) with an optional port.
    Host {
        /// The host as written (IPv6 without brackets), lowercased.
        host: String,
        /// The port, when written.
        port: Option<u16>,
    },
    /// The host part holds a variable: resolved per request.
    Variable,
}

/// A parsed `*_pass` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassTarget {
    /// Which directive.
    pub kind: PassKind,
    /// The scheme, with `://`, when one was written (lowercase, from [`PassKind::schemes`]).
    pub scheme: Option<&'static str>,
    /// Where it goes.
    pub endpoint: Endpoint,
    /// The URI part after the address (`/api/` in `http://app/api/`), when written.
    pub uri: Option<String>,
    /// Byte range of the address within the argument's value (for fixes).
    pub address: std::ops::Range<usize>,
}

/// Why a `*_pass` argument cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PassError {
    /// `proxy_pass` without `http://` or `https://` (nginx: `invalid URL prefix`).
    InvalidPrefix,
    /// A port that is not a number in 1..=65535 (nginx: `invalid port`).
    InvalidPort,
    /// Nothing after the scheme (nginx: `no host`).
    NoHost,
    /// A unix socket with a relative or empty path.
    RelativeSocket,
}

/// Parse the argument of a `*_pass` directive.
pub fn parse_pass(kind: PassKind, value: &str) -> Result<PassTarget, PassError> {
    let (scheme, rest, offset) = match kind.schemes() {
        [] => (None, value, 0),
        schemes => {
            let has = |s: &str| {
                value
                    .get(..s.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(s))
            };
            match schemes.iter().find(|s| has(s)) {
                Some(s) => (Some(*s), &value[s.len()..], s.len()),
                None if kind == PassKind::Proxy => {
                    if value.starts_with('$') {
                        // `proxy_pass $url;` — the whole URL is a variable.
                        return Ok(PassTarget {
                            kind,
                            scheme: None,
                            endpoint: Endpoint::Variable,
                            uri: None,
                            address: 0..value.len(),
                        });
                    }
                    return Err(PassError::InvalidPrefix);
                }
                None => (None, value, 0),
            }
        }
    };
    if let Some(path) = rest.strip_prefix("unix:") {
        // `unix:/path` or, in URLs, `unix:/path:/uri`.
        let (path, uri) = if scheme.is_some() {
            match path.find(":/") {
                Some(i) => (&path[..i], Some(path[i + 1..].to_string())),
                None => (path, None),
            }
        } else {
            (path, None)
        };
        if !path.starts_with('/') {
            return Err(PassError::RelativeSocket);
        }
        return Ok(PassTarget {
            kind,
            scheme,
            endpoint: Endpoint::Unix(normalize_unix_path(path)),
            uri,
            address: offset..offset + 5 + path.len(),
        });
    }
    let (authority, uri) = match rest.find('/') {
        Some(i) if scheme.is_some() => (&rest[..i], Some(rest[i..].to_string())),
        _ => (rest, None),
    };
    if authority.is_empty() {
        return Err(PassError::NoHost);
    }
    let address = offset..offset + authority.len();
    if authority.contains('$') {
        return Ok(PassTarget {
            kind,
            scheme,
            endpoint: Endpoint::Variable,
            uri,
            address,
        });
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner.find(']').ok_or(PassError::NoHost)?;
        let after = &inner[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(PassError::InvalidPort),
        };
        (&inner[..close], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(parse_port(p)?)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(PassError::NoHost);
    }
    Ok(PassTarget {
        kind,
        scheme,
        endpoint: Endpoint::Host {
            host: host.to_ascii_lowercase(),
            port,
        },
        uri,
        address,
    })
}

fn parse_port(p: &str) -> Result<u16, PassError> {
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n as u16),
        _ => Err(PassError::InvalidPort),
    }
}

/// True when `host` is a literal IPv4 or IPv6 address.
pub fn is_ip_literal(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// True when `host` names this machine's loopback (`localhost`, 127.0.0.0/8, `::1`).
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_like_nginx() {
        assert_eq!(parse_time_ms("60"), Some(60_000));
        assert_eq!(parse_time_ms("30s"), Some(30_000));
        assert_eq!(parse_time_ms("500ms"), Some(500));
        assert_eq!(parse_time_ms("1m30s"), Some(90_000));
        assert_eq!(parse_time_ms("1h 30m"), Some(5_400_000));
        assert_eq!(parse_time_ms("2d"), Some(172_800_000));
        assert_eq!(parse_time_ms("30s1m"), None, "units must shrink");
        assert_eq!(parse_time_ms("1x"), None);
        assert_eq!(parse_time_ms(""), None);
        assert_eq!(parse_time_ms("s"), None);
        assert_eq!(parse_time_ms("99999999999999999999"), None);
    }

    #[test]
    fn sizes_like_nginx() {
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("16k"), Some(16 * 1024));
        assert_eq!(parse_size("16K"), Some(16 * 1024));
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("1g"), None);
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("1.5k"), None);
    }

    #[test]
    fn formats_round_trip() {
        for ms in [500, 1000, 30_000, 60_000, 90_000, 3_600_000, 5_400_000] {
            assert_eq!(parse_time_ms(&format_time_ms(ms)), Some(ms), "{ms}");
        }
        for b in [100, 4096, 16384, 1 << 20] {
            assert_eq!(parse_size(&format_size(b)), Some(b));
        }
        assert_eq!(format_time_ms(90_000), "90s");
        assert_eq!(format_size(32768), "32k");
    }

    #[test]
    fn pass_targets() {
        let t = parse_pass(PassKind::Fastcgi, "unix:/var/run/php/php8.2-fpm.sock").unwrap();
        assert_eq!(
            t.endpoint,
            Endpoint::Unix("/run/php/php8.2-fpm.sock".into())
        );
        let t = parse_pass(PassKind::Fastcgi, "127.0.0.1:9000").unwrap();
        assert_eq!(
            t.endpoint,
            Endpoint::Host {
                host: "127.0.0.1".into(),
                port: Some(9000)
            }
        );
        let t = parse_pass(PassKind::Fastcgi, "php_backend").unwrap();
        assert_eq!(
            t.endpoint,
            Endpoint::Host {
                host: "php_backend".into(),
                port: None
            }
        );
        let t = parse_pass(PassKind::Proxy, "http://[::1]:8080/api/").unwrap();
        assert_eq!(
            t.endpoint,
            Endpoint::Host {
                host: "::1".into(),
                port: Some(8080)
            }
        );
        assert_eq!(t.uri.as_deref(), Some("/api/"));
        assert_eq!(&"http://[::1]:8080/api/"[t.address.clone()], "[::1]:8080");
        let t = parse_pass(PassKind::Proxy, "http://unix:/run/app.sock:/x").unwrap();
        assert_eq!(t.endpoint, Endpoint::Unix("/run/app.sock".into()));
        assert_eq!(t.uri.as_deref(), Some("/x"));
        let t = parse_pass(PassKind::Proxy, "https://$backend/x").unwrap();
        assert_eq!(t.endpoint, Endpoint::Variable);
        assert_eq!(
            parse_pass(PassKind::Proxy, "$url").unwrap().endpoint,
            Endpoint::Variable
        );
        assert_eq!(
            parse_pass(PassKind::Proxy, "localhost:8080"),
            Err(PassError::InvalidPrefix)
        );
        assert_eq!(
            parse_pass(PassKind::Proxy, "http://a:99999"),
            Err(PassError::InvalidPort)
        );
        assert_eq!(
            parse_pass(PassKind::Fastcgi, "unix:run/php.sock"),
            Err(PassError::RelativeSocket)
        );
        assert_eq!(
            parse_pass(PassKind::Proxy, "http://"),
            Err(PassError::NoHost)
        );
    }

    #[test]
    fn socket_paths_normalise() {
        assert_eq!(
            normalize_unix_path("/var/run//php/x.sock"),
            "/run/php/x.sock"
        );
        assert_eq!(normalize_unix_path("/tmp/x.sock"), "/tmp/x.sock");
        // nginx's side reads paths the way FPM's side does.
        let t = parse_pass(PassKind::Fastcgi, "unix:/run/php/./x.sock").unwrap();
        assert_eq!(t.endpoint, Endpoint::Unix("/run/php/x.sock".into()));
    }

    #[test]
    fn loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.1.2.3"));
        assert!(is_loopback("::1"));
        assert!(is_loopback("localhost"));
        assert!(!is_loopback("php"));
        assert!(is_ip_literal("10.0.0.1"));
        assert!(!is_ip_literal("example.com"));
    }
}
