//! `listen` targets as `fpm_sockets.c` reads them, normalised so that two spellings of
//! one socket compare equal (`/var/run` is `/run` on every systemd distribution).

use std::path::Path;

/// The host part of a TCP listen address.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum TcpHost {
    /// A port alone: FPM tries `[::]` (dual stack), then `0.0.0.0`.
    AllDual,
    /// `*` or `0.0.0.0`: every IPv4 address.
    AllV4,
    /// `[::]` or `::`: every IPv6 address (and IPv4 on dual-stack hosts).
    AllV6,
    /// A literal IP address (brackets removed).
    Ip(String),
    /// A host name, resolved by `getaddrinfo` at start.
    Name(String),
}

/// A parsed `listen` value.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ListenAddr {
    /// A unix socket.
    Unix {
        /// The path after prefix expansion.
        path: String,
        /// The path with `/var/run` → `/run`, `//` and `/./` collapsed, for comparing.
        normalized: String,
    },
    /// A TCP socket.
    Tcp {
        /// The host part.
        host: TcpHost,
        /// The port as FPM reads it (`atoi`); FPM refuses values outside 1..=65535 at start.
        port: i64,
        /// The port text as written (for messages).
        port_text: String,
    },
}

/// Normalise a unix socket path: `/var/run/x` → `/run/x`, repeated `/` and `.` removed.
pub fn normalize_unix_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.len() >= 2 && parts[0] == "var" && parts[1] == "run" {
        parts.remove(0);
    }
    let mut s = String::from(if p.starts_with('/') { "/" } else { "" });
    s.push_str(&parts.join("/"));
    s
}

impl ListenAddr {
    /// Read a listen value as FPM does: any `:` or all digits is TCP, else a unix path
    /// (relative paths are prefixed).
    pub fn parse(value: &str, prefix: Option<&Path>) -> ListenAddr {
        let v = value;
        let all_digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        if v.contains(':') || all_digits {
            let (host, port) = match v.rfind(':') {
                Some(i) => (&v[..i], &v[i + 1..]),
                None => ("", v),
            };
            let port_num = i64::from(crate::model::values::atoi(port.as_bytes()));
            let h = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let host = if v.rfind(':').is_none() {
                TcpHost::AllDual
            } else if h == "*" || h == "0.0.0.0" {
                TcpHost::AllV4
            } else if h == "::" {
                TcpHost::AllV6
            } else if h.parse::<std::net::IpAddr>().is_ok() {
                TcpHost::Ip(h.to_string())
            } else {
                TcpHost::Name(h.to_string())
            };
            return ListenAddr::Tcp {
                host,
                port: port_num,
                port_text: port.to_string(),
            };
        }
        let path = if v.starts_with('/') {
            v.to_string()
        } else {
            match prefix {
                Some(p) => format!("{}/{}", p.display().to_string().trim_end_matches('/'), v),
                None => v.to_string(),
            }
        };
        let normalized = normalize_unix_path(&path);
        ListenAddr::Unix { path, normalized }
    }

    /// True when binding both would collide: the same socket path, or the same port on
    /// overlapping addresses.
    pub fn collides_with(&self, other: &ListenAddr) -> bool {
        match (self, other) {
            (ListenAddr::Unix { normalized: a, .. }, ListenAddr::Unix { normalized: b, .. }) => {
                a == b
            }
            (
                ListenAddr::Tcp {
                    host: h1, port: p1, ..
                },
                ListenAddr::Tcp {
                    host: h2, port: p2, ..
                },
            ) => {
                if p1 != p2 {
                    return false;
                }
                let wild =
                    |h: &TcpHost| matches!(h, TcpHost::AllDual | TcpHost::AllV4 | TcpHost::AllV6);
                let v6 = |h: &TcpHost| match h {
                    TcpHost::Ip(s) => s.contains(':'),
                    TcpHost::AllV6 | TcpHost::AllDual => true,
                    _ => false,
                };
                match (wild(h1), wild(h2)) {
                    (true, true) => true,
                    (true, false) => matches!(h1, TcpHost::AllDual) || v6(h1) == v6(h2),
                    (false, true) => matches!(h2, TcpHost::AllDual) || v6(h1) == v6(h2),
                    (false, false) => h1 == h2,
                }
            }
            _ => false,
        }
    }

    /// `unix:/run/x.sock` or `host:port`, the way nginx names an upstream.
    pub fn display(&self) -> String {
        match self {
            ListenAddr::Unix { normalized, .. } => format!("unix:{normalized}"),
            ListenAddr::Tcp {
                host, port_text, ..
            } => match host {
                TcpHost::AllDual => format!("*:{port_text}"),
                TcpHost::AllV4 => format!("0.0.0.0:{port_text}"),
                TcpHost::AllV6 => format!("[::]:{port_text}"),
                TcpHost::Ip(ip) if ip.contains(':') => format!("[{ip}]:{port_text}"),
                TcpHost::Ip(h) | TcpHost::Name(h) => format!("{h}:{port_text}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        let p = |s: &str| ListenAddr::parse(s, Some(Path::new("/usr")));
        assert!(matches!(p("/run/php/a.sock"), ListenAddr::Unix { .. }));
        assert_eq!(
            p("/var/run/php//a.sock"),
            ListenAddr::Unix {
                path: "/var/run/php//a.sock".into(),
                normalized: "/run/php/a.sock".into()
            }
        );
        assert_eq!(
            p("run/a.sock"),
            ListenAddr::Unix {
                path: "/usr/run/a.sock".into(),
                normalized: "/usr/run/a.sock".into()
            }
        );
        assert!(matches!(
            p("9000"),
            ListenAddr::Tcp {
                host: TcpHost::AllDual,
                port: 9000,
                ..
            }
        ));
        assert!(matches!(
            p("127.0.0.1:9000"),
            ListenAddr::Tcp {
                host: TcpHost::Ip(_),
                port: 9000,
                ..
            }
        ));
        assert!(
            matches!(p("[::1]:9000"), ListenAddr::Tcp { host: TcpHost::Ip(ref h), .. } if h == "::1")
        );
        assert!(matches!(
            p("*:9000"),
            ListenAddr::Tcp {
                host: TcpHost::AllV4,
                ..
            }
        ));
        assert!(matches!(
            p("localhost:9000"),
            ListenAddr::Tcp {
                host: TcpHost::Name(_),
                ..
            }
        ));
        assert!(p("9000").collides_with(&p("127.0.0.1:9000")));
        assert!(p("/var/run/a.sock").collides_with(&p("/run/a.sock")));
        assert!(!p("127.0.0.1:9000").collides_with(&p("127.0.0.2:9000")));
        assert!(!p("127.0.0.1:9000").collides_with(&p("127.0.0.1:9001")));
    }
}
