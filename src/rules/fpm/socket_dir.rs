//! `fpm-socket-dir-not-runtime-managed`: a pool's socket lives in a folder nothing
//! recreates at boot (a project or home folder), where FPM may fail to bind.

use crate::diagnostic::Diagnostic;
use crate::model::fpm::ListenAddr;
use crate::rule_meta;
use crate::rules::stack::context::pools;
use crate::rules::{Checker, Rule, RuleMeta};

/// The rule.
pub struct SocketDirNotRuntime;
rule_meta!(
    META,
    "fpm-socket-dir-not-runtime-managed",
    Info,
    [Fpm],
    "a pool's unix socket is outside the runtime folder (/run) the packages create at boot",
    None
);

/// True for folders the service manager or the packages recreate: `/run` (and `/var/run`,
/// its link) and a prefix's `var/run` (the official Docker image's /usr/local/var/run).
fn runtime_managed(normalized: &str) -> bool {
    normalized.starts_with("/run/") || normalized.contains("/var/run/")
}

impl Rule for SocketDirNotRuntime {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        for p in pools(cx.stack) {
            let Some(ListenAddr::Unix { path, normalized }) = p.listen() else {
                continue;
            };
            // /tmp has its own rule (unix-socket-in-private-tmp).
            if runtime_managed(&normalized)
                || normalized.starts_with("/tmp/")
                || normalized.starts_with("/var/tmp/")
            {
                continue;
            }
            let Some((file, range)) = p.listen_span() else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    META.id,
                    META.severity,
                    file,
                    range,
                    format!(
                        "pool [{}] creates its socket at {path}, outside the runtime folder /run: if the folder is missing after a reboot, or AppArmor forbids binding there, FPM does not start",
                        p.pool.name
                    ),
                )
                .with_help("put the socket under the package's runtime folder (/run/php/ on Debian, /run/php-fpm/ on RHEL) and point nginx there"),
            );
        }
    }
}
