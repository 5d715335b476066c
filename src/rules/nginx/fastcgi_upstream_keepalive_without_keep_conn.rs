//! `fastcgi-upstream-keepalive-without-keep-conn`: an upstream with `keepalive` used by
//! `fastcgi_pass` without `fastcgi_keep_conn on`: FPM closes every connection anyway.

use super::pass_directives;
use super::util::{eff_flag, set_scalar};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx_values::{Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct FastcgiUpstreamKeepaliveWithoutKeepConn;

static META: RuleMeta = RuleMeta {
    id: "fastcgi-upstream-keepalive-without-keep-conn",
    severity: Severity::Info,
    kinds: &[FileKind::Nginx],
    summary: "an upstream with keepalive is used by fastcgi_pass without fastcgi_keep_conn on",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for FastcgiUpstreamKeepaliveWithoutKeepConn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t) in pass_directives(m) {
            if t.kind != PassKind::Fastcgi {
                continue;
            }
            let Endpoint::Host { host, port: None } = &t.endpoint else {
                continue;
            };
            let d = m.directive(id);
            let Some(up) = m.upstream_named(d.parent, host) else {
                continue;
            };
            let Some(ka) = m.here(up, "keepalive").last() else {
                continue;
            };
            if eff_flag(m, d.parent, "fastcgi_keep_conn", false) {
                continue;
            }
            let Some(arg) = d.args.first() else { continue };
            let kad = m.directive(ka);
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("upstream `{host}` keeps idle connections (`keepalive`), but `fastcgi_keep_conn` is off here: nginx asks PHP-FPM to close each connection, so none is reused"),
            )
            .with_related(kad.file, kad.range, "keepalive set here")
            .with_help("add `fastcgi_keep_conn on;` where fastcgi_pass is, or remove `keepalive` from the upstream");
            if let Some(e) = set_scalar(m, cx.files, d.parent, "fastcgi_keep_conn", "on") {
                diag = diag.with_fix(Fix::new(
                    "set fastcgi_keep_conn on",
                    Applicability::Unsafe,
                    e,
                ));
            }
            out.push(diag);
        }
    }
}
