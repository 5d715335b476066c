//! `fpm-socket-path-mismatch`: nginx passes to a unix socket that no PHP-FPM pool of the
//! stack listens on.

use super::{fastcgi_unix_targets, unix_pools, UnixPool};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct FpmSocketPathMismatch;

static META: RuleMeta = RuleMeta {
    id: "fpm-socket-path-mismatch",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx, FileKind::Fpm],
    summary: "nginx passes requests to a unix socket that no PHP-FPM pool listens on",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

/// Debian's packages may keep `php-fpm.sock` as a link to the default version's socket.
const ALIAS: &str = "/php-fpm.sock";

impl Rule for FpmSocketPathMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let pools = unix_pools(cx.stack);
        let any_pool = cx.stack.fpm.iter().any(|c| !c.pools.is_empty());
        if !any_pool {
            return;
        }
        for target in fastcgi_unix_targets(&cx.stack.nginx) {
            if pools.iter().any(|p| p.normalized == target.normalized) {
                continue;
            }
            let alias = target.normalized.ends_with(ALIAS);
            let severity = if alias && !pools.is_empty() {
                Severity::Info
            } else {
                META.severity
            };
            let mut message = format!(
                "`{}` passes to unix:{}, but no PHP-FPM pool listens there",
                target.directive, target.path
            );
            if alias {
                message.push_str(
                    " (Debian's packages may keep php-fpm.sock as a link to the default version's socket)",
                );
            }
            let mut d = Diagnostic::new(META.id, severity, target.file, target.range, message);
            for p in &pools {
                d = d.with_related(
                    p.file,
                    p.range,
                    format!("pool [{}] listens on {}", p.pool, p.path),
                );
            }
            if pools.is_empty() {
                d = d.with_help(
                    "every pool of the stack listens on TCP: pass to its address instead, or make a pool listen on this socket",
                );
                out.push(d);
                continue;
            }
            let best = closest(&pools, &target.normalized);
            let choices: Vec<String> = pools.iter().map(|p| p.path.clone()).collect();
            d = d.with_help(if pools.len() == 1 {
                format!(
                    "point nginx at the socket the pool creates: unix:{}",
                    best.path
                )
            } else {
                format!(
                    "point nginx at the socket of the pool that should serve it: {}",
                    choices.join(", ")
                )
            });
            if let Some(path_range) = target.path_range {
                let applicability = if pools.len() == 1 {
                    Applicability::Unsafe
                } else {
                    Applicability::DisplayOnly
                };
                d = d.with_fix(Fix::new(
                    format!("pass to unix:{}", best.path),
                    applicability,
                    vec![Edit::replace(target.file, path_range, best.path.clone())],
                ));
            }
            out.push(d);
        }
    }
}

/// The pool whose socket path shares the longest common prefix and suffix with `path`:
/// `php8.1-fpm.sock` is closest to `php8.2-fpm.sock`.
fn closest<'a>(pools: &'a [UnixPool], path: &str) -> &'a UnixPool {
    let score = |p: &UnixPool| {
        let a = p.normalized.as_bytes();
        let b = path.as_bytes();
        let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let suffix = a
            .iter()
            .rev()
            .zip(b.iter().rev())
            .take_while(|(x, y)| x == y)
            .count();
        prefix + suffix
    };
    pools.iter().max_by_key(|p| score(p)).unwrap_or(&pools[0])
}
