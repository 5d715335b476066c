//! `listen` as `ngx_http_core_listen()` and `ngx_http_add_listen()` read it
//! (src/http/ngx_http_core_module.c, src/http/ngx_http.c), and the server names
//! `ngx_http_server_names()` hashes per address.

use super::walk::{accepted_named, NameKeys};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::hash::FastMap;
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The address part of a `listen`, as nginx prints it (`0.0.0.0:80`, `[::]:443`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    /// An IP address and port, in nginx's text form.
    Inet(String),
    /// A UNIX socket or a host name nginx would resolve: not compared.
    Other,
}

/// Parse the first argument of `listen`; `Err` carries nginx's message.
pub fn parse_listen_addr(arg: &str) -> Result<ListenAddr, String> {
    if arg.starts_with("unix:") {
        return Ok(ListenAddr::Other);
    }
    let invalid_port = || format!("invalid port in \"{arg}\" of the \"listen\" directive");
    let port_of = |p: &str| -> Result<u16, String> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_port());
        }
        match p.parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(invalid_port()),
        }
    };
    if let Some(rest) = arg.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Ok(ListenAddr::Other);
        };
        let port = match after.strip_prefix(':') {
            Some(p) => port_of(p)?,
            None if after.is_empty() => 80,
            None => return Ok(ListenAddr::Other),
        };
        if host == "::" {
            // The usual wildcard, already in the form Ipv6Addr prints.
            return Ok(ListenAddr::Inet(host_port("[::]", port)));
        }
        return Ok(match host.parse::<Ipv6Addr>() {
            Ok(ip) => ListenAddr::Inet(format!("[{ip}]:{port}")),
            Err(_) => ListenAddr::Other,
        });
    }
    let (host, port) = match arg.rsplit_once(':') {
        Some((h, p)) => (h, port_of(p)?),
        None if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit()) => ("*", port_of(arg)?),
        None => (arg, 80),
    };
    if host == "*" {
        return Ok(ListenAddr::Inet(host_port("0.0.0.0", port)));
    }
    // An address Ipv4Addr accepts is written the way it prints it (four decimal parts
    // without leading zeros): the text itself is the key, no formatting needed.
    Ok(match host.parse::<Ipv4Addr>() {
        Ok(_) => ListenAddr::Inet(host_port(host, port)),
        Err(_) => ListenAddr::Other,
    })
}

/// `host:port`, written without the formatting machinery: a large site has thousands of
/// `listen` lines, each read by several rules.
fn host_port(host: &str, port: u16) -> String {
    let mut digits = [0u8; 5];
    let mut at = digits.len();
    let mut n = port;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(host.len() + 1 + digits.len() - at);
    out.push_str(host);
    out.push(':');
    out.extend(digits[at..].iter().map(|&d| d as char));
    out
}

/// Check the parameters after the address; `Err((index, message))` as nginx words it.
pub fn check_listen_params(args: &[&str], version: Option<&str>) -> Result<(), (usize, String)> {
    let before = |v: &str| {
        let p = |x: &str| -> Vec<u32> { x.split('.').map(|n| n.parse().unwrap_or(0)).collect() };
        version.is_some_and(|have| p(have) < p(v))
    };
    for (i, a) in args.iter().enumerate().skip(1) {
        let (key, value) = match a.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (*a, None),
        };
        let ok = match (key, value) {
            ("default_server" | "default" | "ssl" | "http2" | "proxy_protocol" | "bind", None) => {
                true
            }
            ("deferred" | "reuseport", None) => true,
            ("quic", None) => !before("1.25.0"),
            ("backlog", Some(v)) => {
                if v.parse::<i64>().map_or(true, |n| n == 0) && v != "-1" {
                    return Err((i, format!("invalid backlog \"{a}\"")));
                }
                true
            }
            ("rcvbuf" | "sndbuf", Some(v)) => {
                if crate::model::nginx_values::parse_size(v).is_none() {
                    return Err((i, format!("invalid {key} \"{a}\"")));
                }
                true
            }
            ("setfib" | "fastopen" | "accept_filter" | "ipv6only" | "so_keepalive", Some(_)) => {
                true
            }
            _ => false,
        };
        if !ok {
            return Err((i, format!("invalid parameter \"{a}\"")));
        }
    }
    Ok(())
}

/// Every `listen` directive with an address, by directive, with what parsing its address
/// gave: three rules read them, from thousands of servers on a large site.
pub fn listen_addrs<'c>(
    cx: &'c Checker<'_>,
) -> &'c FastMap<DirectiveId, Result<ListenAddr, String>> {
    cx.shared.listen_addrs.get_or_init(|| {
        let model = &cx.stack.nginx;
        let listens = model.named("listen");
        let mut map = FastMap::default();
        map.reserve(listens.len());
        for &id in listens {
            if let Some(arg) = model.directive(id).arg(0) {
                map.insert(id, parse_listen_addr(arg));
            }
        }
        map
    })
}

/// The IP address and port of a `listen` ([`listen_addrs`]), when it has one.
pub fn inet_addr<'c>(cx: &'c Checker<'_>, listen: DirectiveId) -> Option<&'c str> {
    match listen_addrs(cx).get(&listen) {
        Some(Ok(ListenAddr::Inet(a))) => Some(a),
        _ => None,
    }
}

/// The http `listen` directives nginx reads, by server block.
fn http_listens(cx: &Checker<'_>) -> Vec<DirectiveId> {
    let model = &cx.stack.nginx;
    accepted_named(cx, &NameKeys::of(["listen"]))
        .filter(|v| model.block(model.directive(v.id).parent).kind == BlockKind::Server)
        .map(|v| v.id)
        .collect()
}

/// The addresses a server listens on (`0.0.0.0:80` when it has no `listen`), for the
/// servers of every http block, in reading order.
pub fn server_addresses<'c>(cx: &'c Checker<'_>) -> Vec<(BlockId, Vec<&'c str>)> {
    let model = &cx.stack.nginx;
    // One pass over nginx's reading order: a server's opening comes before its listens.
    let mut out: Vec<(BlockId, Vec<&str>)> = Vec::new();
    let mut listened: Vec<bool> = Vec::new();
    let mut index: FastMap<BlockId, usize> = FastMap::default();
    for v in accepted_named(cx, &NameKeys::of(["server", "listen"])) {
        let d = model.directive(v.id);
        if let Some(b) = d.block {
            if model.block(b).kind == BlockKind::Server {
                index.insert(b, out.len());
                out.push((b, Vec::new()));
                listened.push(false);
            }
            continue;
        }
        if d.name != "listen" {
            continue;
        }
        let Some(&at) = index.get(&d.parent) else {
            continue;
        };
        listened[at] = true;
        if let Some(a) = inet_addr(cx, v.id) {
            let addrs = &mut out[at].1;
            if !addrs.contains(&a) {
                addrs.push(a);
            }
        }
    }
    for ((_, addrs), any) in out.iter_mut().zip(listened) {
        if !any {
            addrs.push("0.0.0.0:80");
        }
    }
    out
}

// ------------------------------------------------------------------ listen

/// `nginx-listen-invalid`: a `listen` nginx refuses.
pub struct ListenInvalid;

static LISTEN: RuleMeta = RuleMeta {
    id: "nginx-listen-invalid",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary:
        "a listen directive has a bad port or parameter, or a second default server for one address",
    fix: None,
    options: &[],
};

impl Rule for ListenInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &LISTEN
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model: &NginxModel = &cx.stack.nginx;
        // Per http block: address → the listen that made a server its default.
        // Keyed by transport too: `quic` listens on UDP, beside TCP on the same port (as
        // nginx keys its listening sockets by socket type).
        let mut defaults: FastMap<(BlockId, &str, bool), DirectiveId> = FastMap::default();
        let mut seen: FastMap<(BlockId, &str, bool), DirectiveId> = FastMap::default();
        let parsed = listen_addrs(cx);
        let mut args: Vec<&str> = Vec::new();
        for id in http_listens(cx) {
            let d = model.directive(id);
            let (Some(first), Some(addr)) = (d.args.first(), parsed.get(&id)) else {
                continue;
            };
            args.clear();
            args.extend(d.args.iter().map(|a| a.value.as_str()));
            let push = |out: &mut Vec<Diagnostic>, range, msg: String| {
                out.push(Diagnostic::new(
                    LISTEN.id,
                    LISTEN.severity,
                    d.file,
                    range,
                    msg,
                ));
            };
            let addr = match addr {
                Ok(a) => a,
                Err(m) => {
                    push(out, first.range, m.clone());
                    continue;
                }
            };
            if let Err((i, m)) = check_listen_params(&args, cx.config.nginx_version.as_deref()) {
                push(out, d.args[i].range, m);
                continue;
            }
            let ListenAddr::Inet(addr) = addr else {
                continue;
            };
            let server = d.parent;
            let http = model.block(server).parent.unwrap_or(server);
            let udp = args.iter().skip(1).any(|a| *a == "quic");
            if let Some(prev) = seen.get(&(server, addr, udp)) {
                let p = model.directive(*prev);
                out.push(
                    Diagnostic::new(
                        LISTEN.id,
                        LISTEN.severity,
                        d.file,
                        first.range,
                        format!("a duplicate listen {addr}"),
                    )
                    .with_related(
                        p.file,
                        p.range,
                        "the same address is listened on here",
                    ),
                );
                continue;
            }
            seen.insert((server, addr, udp), id);
            if !args
                .iter()
                .skip(1)
                .any(|a| *a == "default_server" || *a == "default")
            {
                continue;
            }
            match defaults.get(&(http, addr, udp)) {
                Some(prev) => {
                    let p = model.directive(*prev);
                    out.push(
                        Diagnostic::new(
                            LISTEN.id,
                            LISTEN.severity,
                            d.file,
                            d.name_range(),
                            format!("a duplicate default server for {addr}"),
                        )
                        .with_related(p.file, p.range, "the default server for this address is set here")
                        .with_help("only one server per address and port may be `default_server`: remove the parameter from one of them"),
                    );
                }
                None => {
                    defaults.insert((http, addr, udp), id);
                }
            }
        }
    }
}

// ------------------------------------------------------------------ server names

/// `nginx-conflicting-server-name`: two servers claim one name on one address.
pub struct ConflictingServerName;

static CONFLICT: RuleMeta = RuleMeta {
    id: "nginx-conflicting-server-name",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary:
        "two servers on one address and port have the same server name: nginx ignores the second",
    fix: None,
    options: &[],
};

impl Rule for ConflictingServerName {
    fn meta(&self) -> &'static RuleMeta {
        &CONFLICT
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        // Names and addresses are gathered first so that the claims can borrow them.
        let mut servers = Vec::new();
        for (server, addrs) in server_addresses(cx) {
            let http = model.block(server).parent.unwrap_or(server);
            // The names with the place to point at; a server without server_name has "".
            let mut names: Vec<(
                Cow<'_, str>,
                crate::source::FileId,
                crate::source::TextRange,
            )> = Vec::new();
            let mut has_server_name = false;
            for sn in model.here(server, "server_name") {
                has_server_name = true;
                let d = model.directive(sn);
                for a in d.args.iter() {
                    let v = a.value.as_str();
                    if v.starts_with('~') || v.contains('$') {
                        continue;
                    }
                    // nginx compares names without regard to case; most are lowercase.
                    let n: Cow<'_, str> = if v.bytes().any(|b| b.is_ascii_uppercase()) {
                        Cow::Owned(v.to_ascii_lowercase())
                    } else {
                        Cow::Borrowed(v)
                    };
                    let n = match n.strip_prefix('.') {
                        Some(x) => Cow::Owned(format!("*.{x}")),
                        None => n,
                    };
                    names.push((n, d.file, a.range));
                }
            }
            if !has_server_name {
                let Some(open) = model.block(server).directive else {
                    continue;
                };
                let d = model.directive(open);
                names.push((Cow::Borrowed(""), d.file, d.name_range()));
            }
            servers.push((server, http, addrs, names));
        }
        let mut claimed: FastMap<(BlockId, &str, &str), BlockId> = FastMap::default();
        claimed.reserve(servers.iter().map(|s| s.2.len() * s.3.len()).sum());
        for (server, http, addrs, names) in &servers {
            let (server, http) = (*server, *http);
            for addr in addrs {
                for (name, file, range) in names {
                    let key = (http, *addr, name.as_ref());
                    if let Some(prev) = claimed.get(&key) {
                        if *prev == server {
                            continue;
                        }
                        out.push(
                            Diagnostic::new(
                                CONFLICT.id,
                                CONFLICT.severity,
                                *file,
                                *range,
                                format!("conflicting server name \"{name}\" on {addr}, ignored"),
                            )
                            .with_help("requests for this name on this address go to the first server; remove the name from one of them or listen on another address"),
                        );
                    } else {
                        claimed.insert(key, server);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod addr_tests {
    use super::*;

    fn key(arg: &str) -> Option<String> {
        match parse_listen_addr(arg) {
            Ok(ListenAddr::Inet(a)) => Some(a),
            _ => None,
        }
    }

    #[test]
    fn listen_addresses_key_as_nginx_compares_them() {
        assert_eq!(key("80").as_deref(), Some("0.0.0.0:80"));
        assert_eq!(key("*:8080").as_deref(), Some("0.0.0.0:8080"));
        assert_eq!(key("127.0.0.1").as_deref(), Some("127.0.0.1:80"));
        assert_eq!(key("10.0.0.1:65535").as_deref(), Some("10.0.0.1:65535"));
        assert_eq!(key("1").as_deref(), Some("0.0.0.0:1"));
        assert_eq!(key("[::]:10").as_deref(), Some("[::]:10"));
        assert_eq!(key("[::1]:9000").as_deref(), Some("[::1]:9000"));
        assert_eq!(key("[0:0::1]").as_deref(), Some("[::1]:80"));
        // Leading zeros are not an address nginx and Rust agree on: not keyed.
        assert_eq!(key("010.0.0.1:80"), None);
        assert_eq!(key("example.com:80"), None);
        assert!(parse_listen_addr("127.0.0.1:0").is_err());
        assert!(parse_listen_addr("127.0.0.1:70000").is_err());
    }
}
