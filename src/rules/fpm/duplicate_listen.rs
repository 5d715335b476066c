//! `fpm-duplicate-listen-address`: two pools bind one address. Within one master FPM
//! refuses to start (the model computes that refusal); across masters (two PHP versions on
//! one host) or against nginx's own `listen`, the one started second cannot bind.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::fpm::ListenAddr;
use crate::model::nginx::BlockKind;
use crate::rules::stack::context::pools;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct DuplicateListen;

static META: RuleMeta = RuleMeta {
    id: "fpm-duplicate-listen-address",
    severity: Severity::Error,
    kinds: &[FileKind::Fpm, FileKind::Nginx],
    summary: "two PHP-FPM pools, or a pool and nginx, listen on the same address: one cannot bind",
    fix: None,
    options: &[],
};

/// An nginx `listen` argument as an address (`80`, `127.0.0.1:9000`, `unix:/x.sock`).
fn nginx_addr(arg: &str) -> ListenAddr {
    match arg.strip_prefix("unix:") {
        Some(p) => ListenAddr::parse(p, None),
        None if arg.contains(':') || arg.bytes().all(|b| b.is_ascii_digit()) => {
            ListenAddr::parse(arg, None)
        }
        // A host name alone: port 80.
        None => ListenAddr::parse(&format!("{arg}:80"), None),
    }
}

impl Rule for DuplicateListen {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        out.extend(
            cx.stack
                .fpm_refusals
                .iter()
                .filter(|d| d.rule == META.id)
                .cloned(),
        );
        let pools = pools(cx.stack);
        for (i, a) in pools.iter().enumerate() {
            let (Some(la), Some((fa, ra))) = (a.listen(), a.listen_span()) else {
                continue;
            };
            // Across FPM masters: the later configuration cannot bind.
            for b in &pools[..i] {
                if b.cfg == a.cfg {
                    continue;
                }
                let (Some(lb), Some((fb, rb))) = (b.listen(), b.listen_span()) else {
                    continue;
                };
                if !la.collides_with(&lb) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        META.id,
                        META.severity,
                        fa,
                        ra,
                        format!(
                            "pool [{}] listens on {}, which pool [{}] of another PHP-FPM configuration ({}) also binds: the master started second fails with `Address already in use` and exits",
                            a.pool.name,
                            a.pool.get("listen").map(|d| d.value.as_str()).unwrap_or(""),
                            b.pool.name,
                            cx.files.get(b.config.root).display_path()
                        ),
                    )
                    .with_related(fb, rb, format!("pool [{}] listens here", b.pool.name))
                    .with_help("give each PHP version its own socket (e.g. /run/php/php8.2-fpm.sock) or port"),
                );
            }
            // Against nginx's own listening sockets.
            let model = &cx.stack.nginx;
            for id in model.all_named("listen") {
                let d = model.directive(id);
                if model.block(d.parent).kind != BlockKind::Server {
                    continue;
                }
                let Some(arg) = d.args.first() else { continue };
                if !nginx_addr(&arg.value).collides_with(&la) {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        META.id,
                        META.severity,
                        fa,
                        ra,
                        format!(
                            "pool [{}] listens on {}, where nginx also listens ({}): whichever starts second cannot bind (`Address already in use`)",
                            a.pool.name,
                            a.pool.get("listen").map(|d| d.value.as_str()).unwrap_or(""),
                            arg.value
                        ),
                    )
                    .with_related(d.file, arg.range, "nginx listens here"),
                );
            }
        }
    }
}
