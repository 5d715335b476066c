//! Cross-file rules: nginx, PHP-FPM and php.ini read as one system.

pub mod capacity;
pub mod context;
#[cfg(test)]
mod corpus_tests;
pub mod fpm_socket_path_mismatch;
#[cfg(test)]
mod fpm_t_tests;
pub mod perms;
pub mod reach;
#[cfg(test)]
mod tests;
pub mod timeouts;

use crate::model::fpm::normalize_unix_path;
use crate::model::fpm::ListenAddr;
use crate::model::nginx::{BlockKind, NginxModel};
use crate::model::nginx_values::{parse_pass, Endpoint, PassKind};
use crate::model::stack::Stack;
use crate::source::{FileId, TextRange};

crate::rule_pack! {
    "fpm-socket-path-mismatch" => fpm_socket_path_mismatch::FpmSocketPathMismatch,
    "fpm-tcp-endpoint-mismatch" => reach::TcpEndpointMismatch,
    "fpm-listen-loopback-unreachable" => reach::ListenLoopbackUnreachable,
    "fastcgi-pass-loopback-in-container" => reach::LoopbackInContainer,
    "fpm-allowed-clients-excludes-nginx" => reach::AllowedClientsExcludesNginx,
    "upstream-protocol-mismatch" => reach::ProtocolMismatch,
    "unix-socket-in-private-tmp" => reach::SocketInPrivateTmp,
    "fpm-socket-owner-unset" => perms::OwnerUnset,
    "fpm-socket-owner-group-excludes-nginx-user" => perms::OwnerGroupExcludes,
    "fpm-socket-acl-excludes-nginx-user" => perms::AclExcludes,
    "fpm-socket-mode-too-restrictive" => perms::ModeTooRestrictive,
    "fpm-socket-acl-unsupported-in-container" => perms::AclInContainer,
    "fpm-max-children-too-low" => capacity::MaxChildrenTooLow,
    "fpm-memory-overcommit" => capacity::MemoryOvercommit,
    "fpm-listen-backlog-too-low" => capacity::BacklogTooLow,
    "fastcgi-keepalive-with-fpm-recycling" => capacity::KeepaliveWithRecycling,
    "fastcgi-read-timeout-below-php-limit" => timeouts::ReadTimeoutBelowPhp,
    "fpm-terminate-timeout-below-max-execution-time" => timeouts::TerminateBelowMet,
    "php-unbounded-execution-under-fpm" => timeouts::UnboundedExecution,
}

/// A unix socket nginx sends FastCGI requests to.
#[derive(Clone, Debug)]
pub struct UnixTarget {
    /// The directive that names it (`fastcgi_pass`, or `server` in an upstream block).
    pub directive: String,
    /// Where it is written.
    pub file: FileId,
    /// The argument naming it.
    pub range: TextRange,
    /// The path as written.
    pub path: String,
    /// The path normalised for comparison.
    pub normalized: String,
    /// The bytes of the path alone, when the argument has no escapes (for fixes).
    pub path_range: Option<TextRange>,
}

/// Every unix socket a `fastcgi_pass` of a PHP location reaches, directly or through an
/// `upstream` block. Sockets of other FastCGI servers (fcgiwrap, …) are left out: a target
/// counts as PHP when its path or its location's pattern mentions php or fpm.
pub fn fastcgi_unix_targets(model: &NginxModel) -> Vec<UnixTarget> {
    let mut out = Vec::new();
    for &id in model.named("fastcgi_pass") {
        let d = model.directive(id);
        let Some(arg) = d.args.first() else { continue };
        let Ok(target) = parse_pass(PassKind::Fastcgi, &arg.value) else {
            continue;
        };
        let location_is_php = model
            .ancestors(d.parent)
            .filter(|b| model.block(*b).kind == BlockKind::Location)
            .filter_map(|b| model.block(b).directive)
            .any(|l| {
                model
                    .directive(l)
                    .args
                    .iter()
                    .any(|a| a.value.to_ascii_lowercase().contains("php"))
            });
        match target.endpoint {
            Endpoint::Unix(normalized) => {
                let path = arg.value["unix:".len()..].to_string();
                if !(location_is_php || mentions_php(&path)) {
                    continue;
                }
                out.push(UnixTarget {
                    directive: d.name.to_string(),
                    file: d.file,
                    range: arg.range,
                    path_range: path_range(arg, "unix:".len(), path.len()),
                    path,
                    normalized,
                });
            }
            Endpoint::Host { host, port: None } => {
                let Some(up) = model.upstream_named(d.parent, &host) else {
                    continue;
                };
                for s in model.here(up, "server") {
                    let s = model.directive(s);
                    let Some(a) = s.args.first() else { continue };
                    let Some(path) = a.value.strip_prefix("unix:") else {
                        continue;
                    };
                    if !(location_is_php || mentions_php(path)) {
                        continue;
                    }
                    out.push(UnixTarget {
                        directive: "server".into(),
                        file: s.file,
                        range: a.range,
                        path_range: path_range(a, "unix:".len(), path.len()),
                        path: path.to_string(),
                        normalized: normalize_unix_path(path),
                    });
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|t| (t.file, t.range.start));
    out.dedup_by_key(|t| (t.file, t.range.start));
    out
}

fn mentions_php(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("php") || p.contains("fpm")
}

/// The bytes of `len` bytes of an argument's value starting at `skip`, when the value is
/// the source's bytes as they are: written without escapes, and valid UTF-8 (an invalid
/// byte is three bytes of U+FFFD in the value), so value offsets are source offsets.
fn path_range(arg: &crate::model::nginx::Arg, skip: usize, len: usize) -> Option<TextRange> {
    let quotes = 2 * u32::from(arg.quoted);
    if arg.value.contains('\\') || arg.value.len() as u32 + quotes != arg.range.len() {
        return None;
    }
    let start = arg.range.start + u32::from(arg.quoted) + skip as u32;
    Some(TextRange::new(start, start + len as u32))
}

/// A PHP-FPM pool that listens on a unix socket.
#[derive(Clone, Debug)]
pub struct UnixPool {
    /// The pool's name.
    pub pool: String,
    /// The socket path as FPM expands it.
    pub path: String,
    /// The path normalised for comparison.
    pub normalized: String,
    /// The file of the `listen` line.
    pub file: FileId,
    /// The `listen` value.
    pub range: TextRange,
}

/// Every pool of the stack that listens on a unix socket.
pub fn unix_pools(stack: &Stack) -> Vec<UnixPool> {
    let mut out = Vec::new();
    for cfg in &stack.fpm {
        for pool in &cfg.pools {
            let Some(ListenAddr::Unix { path, normalized }) = pool.listen(&cfg.options.prefix)
            else {
                continue;
            };
            let Some(d) = pool.get("listen") else {
                continue;
            };
            out.push(UnixPool {
                pool: pool.name.clone(),
                path,
                normalized,
                file: d.origin.file,
                range: d.origin.value_range,
            });
        }
    }
    out
}
