//! `upstream-keepalive-without-http11`: an upstream with `keepalive` used by `proxy_pass`
//! where nginx still speaks HTTP/1.0 or sends `Connection: close`, so no connection is
//! ever kept.

use super::pass_directives;
use super::util::{add_array_line, eff_arg, set_scalar};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx::{BlockId, NginxModel};
use crate::model::nginx_values::{Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct UpstreamKeepaliveWithoutHttp11;

static META: RuleMeta = RuleMeta {
    id: "upstream-keepalive-without-http11",
    severity: Severity::Info,
    kinds: &[FileKind::Nginx],
    summary: "an upstream has keepalive but proxy_http_version 1.1 and an empty Connection header are not both in effect",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

/// How the `Connection` header nginx sends in `block` treats keepalive.
pub fn connection_header(m: &NginxModel, block: BlockId) -> Option<String> {
    m.effective_all(block, "proxy_set_header")
        .into_iter()
        .rev()
        .find_map(|id| {
            let d = m.directive(id);
            d.arg(0)
                .is_some_and(|h| h.eq_ignore_ascii_case("connection"))
                .then(|| d.arg(1).unwrap_or("").to_string())
        })
}

impl Rule for UpstreamKeepaliveWithoutHttp11 {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t) in pass_directives(m) {
            if t.kind != PassKind::Proxy {
                continue;
            }
            let Endpoint::Host { host, port: None } = &t.endpoint else {
                continue;
            };
            let d = m.directive(id);
            let block = d.parent;
            let Some(up) = m.upstream_named(block, host) else {
                continue;
            };
            let Some(ka) = m.here(up, "keepalive").last() else {
                continue;
            };
            let http11 = eff_arg(m, block, "proxy_http_version").is_some_and(|(_, v)| v == "1.1");
            // Without a Connection header nginx sends `Connection: close`; a variable
            // (`$connection_upgrade` from a map) is the user's explicit choice.
            let conn = connection_header(m, block);
            let conn_ok = conn.as_deref().is_some_and(|v| {
                v.is_empty() || v.contains('$') || v.eq_ignore_ascii_case("keep-alive")
            });
            if http11 && conn_ok {
                continue;
            }
            let mut missing = Vec::new();
            if !http11 {
                missing.push("`proxy_http_version 1.1`");
            }
            if !conn_ok {
                missing.push("`proxy_set_header Connection \"\"`");
            }
            let Some(arg) = d.args.first() else { continue };
            let kad = m.directive(ka);
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("upstream `{host}` keeps idle connections (`keepalive`), but this proxy_pass lacks {}: nginx sends HTTP/1.0 or `Connection: close` and no connection is reused", missing.join(" and ")),
            )
            .with_related(kad.file, kad.range, "keepalive set here");
            let mut edits = Vec::new();
            let mut ok = true;
            if !http11 {
                match set_scalar(m, cx.files, block, "proxy_http_version", "1.1") {
                    Some(e) => edits.extend(e),
                    None => ok = false,
                }
            }
            // A literal `Connection` value other than empty is the user's choice (upgrade
            // is another rule's business): only a missing header gets a fix.
            if !conn_ok && conn.is_none() {
                match add_array_line(
                    m,
                    cx.files,
                    block,
                    "proxy_set_header",
                    "proxy_set_header Connection \"\";",
                ) {
                    Some(e) => edits.extend(e),
                    None => ok = false,
                }
            }
            if ok && !edits.is_empty() {
                // Two insertions at one offset: join them into one edit, in order.
                edits = merge_inserts(edits);
                diag = diag.with_fix(Fix::new(
                    "speak HTTP/1.1 without Connection: close to the upstream",
                    Applicability::Unsafe,
                    edits,
                ));
            }
            out.push(diag);
        }
    }
}

/// Join insertions at the same offset of the same file into one edit, keeping their order.
pub fn merge_inserts(edits: Vec<crate::diagnostic::Edit>) -> Vec<crate::diagnostic::Edit> {
    let mut out: Vec<crate::diagnostic::Edit> = Vec::new();
    for e in edits {
        if let Some(prev) = out.iter_mut().find(|p| {
            p.file == e.file
                && p.range.is_empty()
                && e.range.is_empty()
                && p.range.start == e.range.start
        }) {
            prev.replacement.push_str(&e.replacement);
        } else {
            out.push(e);
        }
    }
    out
}
