//! Can nginx reach the pool it passes to, over the protocol the pool speaks?
//!
//! `fpm-tcp-endpoint-mismatch`, `fpm-listen-loopback-unreachable`,
//! `fastcgi-pass-loopback-in-container`, `fpm-allowed-clients-excludes-nginx`,
//! `upstream-protocol-mismatch`, `unix-socket-in-private-tmp`.

use super::context::{
    is_docker_layout, listens_on_loopback_only, pools, pools_reached, serves_php, tcp_port,
    value_range, PassSite, PoolRef,
};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::fpm::{ListenAddr, TcpHost};
use crate::model::nginx_values::{is_loopback, Endpoint, PassKind};
use crate::rule_meta;
use crate::rules::{Checker, Rule, RuleMeta};

fn relate_pool(d: Diagnostic, p: &PoolRef<'_>, what: &str) -> Diagnostic {
    match p.listen_span() {
        Some((f, r)) => d.with_related(f, r, format!("pool [{}] {what}", p.pool.name)),
        None => d,
    }
}

fn relate_site(d: Diagnostic, s: &PassSite) -> Diagnostic {
    d.with_related(s.file, s.range, format!("nginx passes to {}", s.text))
}

fn loopback_target(s: &PassSite) -> Option<(&str, u16)> {
    match &s.endpoint {
        Endpoint::Host {
            host,
            port: Some(p),
        } if is_loopback(host) => Some((host.as_str(), *p)),
        _ => None,
    }
}

fn remote_target(s: &PassSite) -> Option<(&str, u16)> {
    match &s.endpoint {
        Endpoint::Host {
            host,
            port: Some(p),
        } if !is_loopback(host) => Some((host.as_str(), *p)),
        _ => None,
    }
}

/// How nginx on the same machine would name a pool's address.
fn address_for(listen: &ListenAddr) -> String {
    match listen {
        ListenAddr::Unix { path, .. } => format!("unix:{path}"),
        ListenAddr::Tcp { host, port, .. } => match host {
            TcpHost::Ip(ip) if ip.contains(':') => format!("[{ip}]:{port}"),
            TcpHost::Ip(ip) => format!("{ip}:{port}"),
            TcpHost::AllV6 => format!("[::1]:{port}"),
            TcpHost::Name(n) => format!("{n}:{port}"),
            _ => format!("127.0.0.1:{port}"),
        },
    }
}

/// `fpm-tcp-endpoint-mismatch`.
pub struct TcpEndpointMismatch;
rule_meta!(
    TCP_MISMATCH,
    "fpm-tcp-endpoint-mismatch",
    Error,
    [Nginx, Fpm],
    "nginx passes FastCGI to a local TCP port no PHP-FPM pool listens on",
    Some(Applicability::Unsafe)
);

impl Rule for TcpEndpointMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &TCP_MISMATCH
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        let listening: Vec<(PoolRef<'_>, ListenAddr)> = pools
            .iter()
            .filter_map(|p| p.listen().map(|l| (*p, l)))
            .collect();
        if listening.is_empty() {
            return;
        }
        for s in cx.pass_sites() {
            if s.kind != PassKind::Fastcgi {
                continue;
            }
            let Some((host, port)) = loopback_target(s) else {
                continue;
            };
            if !pools_reached(&pools, s).is_empty() || !serves_php(&cx.stack.nginx, s) {
                continue;
            }
            let mut d = Diagnostic::new(
                TCP_MISMATCH.id,
                TCP_MISMATCH.severity,
                s.file,
                s.range,
                format!(
                    "nginx passes FastCGI to {host}:{port}, but no PHP-FPM pool of the stack listens there: the connection is refused"
                ),
            );
            for (p, l) in &listening {
                d = relate_pool(d, p, &format!("listens on {}", address_for(l)));
            }
            // Prefer a TCP pool (only the port drifted), else the first pool.
            let best = listening
                .iter()
                .find(|(_, l)| tcp_port(l).is_some())
                .unwrap_or(&listening[0]);
            let to = address_for(&best.1);
            d = d.with_help(format!(
                "pass to the address the pool listens on ({to}), or make the pool listen on {host}:{port}"
            ));
            if let Some(r) = value_range(&cx.stack.nginx, s) {
                let app = if listening.len() == 1 {
                    Applicability::Unsafe
                } else {
                    Applicability::DisplayOnly
                };
                d = d.with_fix(Fix::new(
                    format!("pass to {to}"),
                    app,
                    vec![Edit::replace(s.file, r, to)],
                ));
            }
            out.push(d);
        }
    }
}

/// `fpm-listen-loopback-unreachable`.
pub struct ListenLoopbackUnreachable;
rule_meta!(
    LOOPBACK,
    "fpm-listen-loopback-unreachable",
    Error,
    [Nginx, Fpm],
    "nginx connects to a pool's port over the network, but the pool listens on loopback only",
    Some(Applicability::Unsafe)
);

impl Rule for ListenLoopbackUnreachable {
    fn meta(&self) -> &'static RuleMeta {
        &LOOPBACK
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        for s in cx.pass_sites() {
            if s.kind != PassKind::Fastcgi {
                continue;
            }
            let Some((host, port)) = remote_target(s) else {
                continue;
            };
            for p in &pools {
                let Some(l) = p.listen() else { continue };
                if tcp_port(&l) != Some(i64::from(port)) || !listens_on_loopback_only(&l) {
                    continue;
                }
                let Some(listen) = p.pool.get("listen") else {
                    continue;
                };
                let d = Diagnostic::new(
                    LOOPBACK.id,
                    LOOPBACK.severity,
                    listen.origin.file,
                    listen.origin.value_range,
                    format!(
                        "pool [{}] listens on {} (loopback only), but nginx connects to {host}:{port} from another machine or container: the connection is refused",
                        p.pool.name, listen.value
                    ),
                );
                let d = relate_site(d, s)
                    .with_help("listen on every address (`listen = PORT`) and restrict clients with listen.allowed_clients")
                    .with_fix(Fix::new(
                        format!("listen on port {port} of every address"),
                        Applicability::Unsafe,
                        vec![Edit::replace(
                            listen.origin.file,
                            listen.origin.value_range,
                            port.to_string(),
                        )],
                    ));
                out.push(d);
            }
        }
    }
}

/// `fastcgi-pass-loopback-in-container`.
pub struct LoopbackInContainer;
rule_meta!(
    CONTAINER,
    "fastcgi-pass-loopback-in-container",
    Warning,
    [Nginx, Fpm],
    "nginx in a container passes FastCGI to loopback, which is the nginx container itself",
    None
);

impl Rule for LoopbackInContainer {
    fn meta(&self) -> &'static RuleMeta {
        &CONTAINER
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        if cx.config.host.container == Some(false) {
            return;
        }
        let pools = pools(cx.stack);
        let docker_pool = pools
            .iter()
            .find(|p| is_docker_layout(&cx.files.get(p.config.root).path));
        let told = cx.config.host.container == Some(true);
        if !told && docker_pool.is_none() {
            return;
        }
        for s in cx.pass_sites() {
            if s.kind != PassKind::Fastcgi {
                continue;
            }
            let Some((host, port)) = loopback_target(s) else {
                continue;
            };
            let severity = if told {
                CONTAINER.severity
            } else {
                crate::diagnostic::Severity::Info
            };
            let why = if told {
                "the host is a container ([host] container = true)"
            } else {
                "the PHP-FPM configuration is the official Docker image's layout"
            };
            let mut d = Diagnostic::new(
                CONTAINER.id,
                severity,
                s.file,
                s.range,
                format!(
                    "nginx passes FastCGI to {host}:{port}, but {why}: inside the nginx container loopback is nginx itself, not PHP-FPM"
                ),
            )
            .with_help("pass to the PHP-FPM container's service name, e.g. `fastcgi_pass php:9000;`");
            if let Some(p) = docker_pool {
                d = relate_pool(d, p, "listens in the PHP-FPM image");
            }
            out.push(d);
        }
    }
}

/// `fpm-allowed-clients-excludes-nginx`.
pub struct AllowedClientsExcludesNginx;
rule_meta!(
    ALLOWED,
    "fpm-allowed-clients-excludes-nginx",
    Error,
    [Nginx, Fpm],
    "nginx connects from another machine, but the pool's listen.allowed_clients admits only loopback",
    None
);

impl Rule for AllowedClientsExcludesNginx {
    fn meta(&self) -> &'static RuleMeta {
        &ALLOWED
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        for s in cx.pass_sites() {
            if s.kind != PassKind::Fastcgi {
                continue;
            }
            let Some((host, port)) = remote_target(s) else {
                continue;
            };
            for p in &pools {
                let Some(l) = p.listen() else { continue };
                if tcp_port(&l) != Some(i64::from(port)) || listens_on_loopback_only(&l) {
                    continue;
                }
                let Some(ac) = p.pool.socket_access().allowed_clients else {
                    continue;
                };
                let ips: Vec<std::net::IpAddr> = ac
                    .value
                    .split(',')
                    .filter_map(|a| a.trim().parse().ok())
                    .collect();
                if ips.is_empty() || !ips.iter().all(|ip| ip.is_loopback()) {
                    continue;
                }
                let d = Diagnostic::new(
                    ALLOWED.id,
                    ALLOWED.severity,
                    ac.origin.file,
                    ac.origin.value_range,
                    format!(
                        "pool [{}] admits only {} (listen.allowed_clients), but nginx connects to {host}:{port} from another address: FPM drops the connection",
                        p.pool.name, ac.value
                    ),
                );
                out.push(relate_site(d, s).with_help(
                    "add the address nginx connects from to listen.allowed_clients (or remove the line to admit every client)",
                ));
            }
        }
    }
}

/// `upstream-protocol-mismatch`.
pub struct ProtocolMismatch;
rule_meta!(
    PROTOCOL,
    "upstream-protocol-mismatch",
    Error,
    [Nginx, Fpm],
    "nginx speaks HTTP, uwsgi or SCGI to a PHP-FPM pool, or FastCGI to nginx's own HTTP port",
    None
);

impl Rule for ProtocolMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &PROTOCOL
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        let model = &cx.stack.nginx;
        for s in cx.pass_sites() {
            if s.kind == PassKind::Fastcgi {
                // (b) FastCGI to a port nginx itself serves HTTP on.
                let Some((host, port)) = loopback_target(s) else {
                    continue;
                };
                if !pools_reached(&pools, s).is_empty() {
                    continue;
                }
                let Some(listen) = nginx_listens_on(model, port) else {
                    continue;
                };
                let l = model.directive(listen);
                let d = Diagnostic::new(
                    PROTOCOL.id,
                    PROTOCOL.severity,
                    s.file,
                    s.range,
                    format!(
                        "`fastcgi_pass` speaks FastCGI to {host}:{port}, but nginx itself serves HTTP on port {port}: the reply is not FastCGI"
                    ),
                )
                .with_related(l.file, l.range, "nginx listens here for HTTP")
                .with_help("use `proxy_pass http://…` for an HTTP backend, or pass to the PHP-FPM pool's address");
                out.push(d);
                continue;
            }
            let remote = remote_target(s).is_some();
            let reached: Vec<PoolRef<'_>> = match &s.endpoint {
                Endpoint::Host {
                    host,
                    port: Some(port),
                } if !is_loopback(host) => pools
                    .iter()
                    .filter(|p| {
                        p.listen().is_some_and(|l| {
                            tcp_port(&l) == Some(i64::from(*port)) && !listens_on_loopback_only(&l)
                        })
                    })
                    .copied()
                    .collect(),
                _ => pools_reached(&pools, s),
            };
            let Some(p) = reached.first() else { continue };
            let proto = match s.kind {
                PassKind::Proxy => "HTTP",
                PassKind::Uwsgi => "uwsgi",
                PassKind::Scgi => "SCGI",
                PassKind::Grpc => "gRPC",
                _ => "another protocol",
            };
            // Another host on the pool's port may be another server: say so, as a warning.
            let (severity, hedge) = if remote {
                (
                    crate::diagnostic::Severity::Warning,
                    " (if that host is the PHP-FPM host)",
                )
            } else {
                (PROTOCOL.severity, "")
            };
            let d = Diagnostic::new(
                PROTOCOL.id,
                severity,
                s.file,
                s.range,
                format!(
                    "`{}` speaks {proto} to {}, but PHP-FPM pool [{}] listens there{hedge} and speaks only FastCGI: the pool closes the connection",
                    s.kind.directive(),
                    s.text,
                    p.pool.name
                ),
            );
            out.push(relate_pool(d, p, "listens here (FastCGI)").with_help(
                "use `include fastcgi_params;`, `fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;` and `fastcgi_pass` to this address",
            ));
        }
    }
}

/// An nginx `listen` directive (of an http server) on `port`.
fn nginx_listens_on(
    model: &crate::model::nginx::NginxModel,
    port: u16,
) -> Option<crate::model::nginx::DirectiveId> {
    model.all_named("listen").find(|id| {
        let d = model.directive(*id);
        if model.block(d.parent).kind != crate::model::nginx::BlockKind::Server {
            return false;
        }
        d.arg(0).is_some_and(|a| listen_port(a) == Some(port))
    })
}

/// The port of an nginx `listen` argument (`80`, `127.0.0.1:8080`, `[::]:80`, `*:80`).
pub fn listen_port(arg: &str) -> Option<u16> {
    if arg.starts_with("unix:") {
        return None;
    }
    match arg.rsplit_once(':') {
        Some((_, p)) => p.parse().ok(),
        None if arg.bytes().all(|b| b.is_ascii_digit()) => arg.parse().ok(),
        None => Some(80),
    }
}

/// `unix-socket-in-private-tmp`.
pub struct SocketInPrivateTmp;
rule_meta!(
    PRIVATE_TMP,
    "unix-socket-in-private-tmp",
    Warning,
    [Nginx, Fpm],
    "nginx and PHP-FPM share a socket under /tmp, which systemd's PrivateTmp gives each service its own copy of",
    None
);

impl Rule for SocketInPrivateTmp {
    fn meta(&self) -> &'static RuleMeta {
        &PRIVATE_TMP
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = pools(cx.stack);
        let sites = cx.pass_sites();
        for p in &pools {
            let Some(ListenAddr::Unix { normalized, .. }) = p.listen() else {
                continue;
            };
            if !(normalized.starts_with("/tmp/") || normalized.starts_with("/var/tmp/")) {
                continue;
            }
            let Some((file, range)) = p.listen_span() else {
                continue;
            };
            let Some(s) = sites
                .iter()
                .find(|s| pools_reached(std::slice::from_ref(p), s).len() == 1)
            else {
                continue;
            };
            let d = Diagnostic::new(
                PRIVATE_TMP.id,
                PRIVATE_TMP.severity,
                file,
                range,
                format!(
                    "pool [{}] creates its socket under {}: with PrivateTmp=true (Fedora/RHEL units) nginx sees another /tmp and cannot find it",
                    p.pool.name,
                    if normalized.starts_with("/tmp/") { "/tmp" } else { "/var/tmp" }
                ),
            );
            out.push(relate_site(d, s).with_help(
                "move the socket to the runtime directory (/run/php-fpm/ or /run/php/) in both the pool and nginx",
            ));
        }
    }
}
