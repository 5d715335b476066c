//! `fpm-duplicate-listen-address`: two pools bind one address. Within one master FPM
//! refuses to start (the model computes that refusal); across masters (two PHP versions on
//! one host) or against nginx's own `listen`, the one started second cannot bind.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::fpm::ListenAddr;
use crate::model::nginx::BlockKind;
use crate::rules::stack::context::{is_docker_layout, pools};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileId;
use crate::source::FileKind;
use std::path::{Path, PathBuf};

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

/// The folder standing for `/` of the system a configuration belongs to: the part of its
/// path before `etc/`. None for the official Docker image's layout (each image runs in its
/// own container, with its own addresses).
fn system_root(path: &Path) -> Option<PathBuf> {
    if is_docker_layout(path) {
        return None;
    }
    let mut root = PathBuf::new();
    for c in path.components() {
        if c.as_os_str() == "etc" {
            return Some(root);
        }
        root.push(c);
    }
    None
}

/// True when two FPM configurations belong to one system (two PHP versions of one host).
fn same_host(cx: &Checker<'_>, a: FileId, b: FileId) -> bool {
    let (pa, pb) = (&cx.files.get(a).path, &cx.files.get(b).path);
    matches!((system_root(pa), system_root(pb)), (Some(x), Some(y)) if x == y)
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
                if b.cfg == a.cfg || !same_host(cx, a.config.root, b.config.root) {
                    continue;
                }
                let (Some(lb), Some((fb, rb))) = (b.listen(), b.listen_span()) else {
                    continue;
                };
                if !la.collides_with(&lb) {
                    continue;
                }
                // A unix socket in use makes the second master stop (it test-connects
                // before unlinking the path, `fpm_sockets.c`); a TCP port fails to bind.
                let outcome = match la {
                    ListenAddr::Unix { .. } => "the master started second stops with `Another FPM instance seems to already listen on …`",
                    ListenAddr::Tcp { .. } => "the master started second fails with `Address already in use` and exits",
                };
                out.push(
                    Diagnostic::new(
                        META.id,
                        META.severity,
                        fa,
                        ra,
                        format!(
                            "pool [{}] listens on {}, which pool [{}] of another PHP-FPM configuration ({}) also uses: {outcome}",
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
            // Against nginx's own listening sockets (not for a Docker image's pool: nginx
            // runs in another container there).
            if is_docker_layout(&cx.files.get(a.config.root).path) {
                continue;
            }
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
