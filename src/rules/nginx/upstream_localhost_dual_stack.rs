//! `upstream-localhost-dual-stack`: a pass or upstream server to `localhost`, which nginx
//! resolves to both 127.0.0.1 and ::1 and tries in turn.

use super::pass_directives;
use super::util::upstream_blocks;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx::DirectiveId;
use crate::model::nginx_values::Endpoint;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct UpstreamLocalhostDualStack;

static META: RuleMeta = RuleMeta {
    id: "upstream-localhost-dual-stack",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "the upstream address is localhost, which resolves to both 127.0.0.1 and ::1",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for UpstreamLocalhostDualStack {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let mut targets: Vec<DirectiveId> = pass_directives(m)
            .filter(
                |(_, t)| matches!(&t.endpoint, Endpoint::Host { host, .. } if host == "localhost"),
            )
            .map(|(id, _)| id)
            .collect();
        for (_, up) in upstream_blocks(m) {
            for s in m.here(up, "server") {
                let a = m.directive(s).arg(0).unwrap_or("");
                let host = a.rsplit_once(':').map(|(h, _)| h).unwrap_or(a);
                if host.eq_ignore_ascii_case("localhost") {
                    targets.push(s);
                }
            }
        }
        for id in targets {
            let d = m.directive(id);
            let Some(arg) = d.args.first() else { continue };
            let Some(i) = arg.value.to_ascii_lowercase().find("localhost") else {
                continue;
            };
            let at = arg.range.start + u32::from(arg.quoted) + i as u32;
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                "`localhost` resolves to both 127.0.0.1 and ::1; nginx tries both, and a backend listening on one family refuses every attempt on the other (`connect() failed (111: Connection refused)` with upstream \"[::1]:…\")",
            )
            .with_help("use the address the backend listens on, usually 127.0.0.1");
            if !arg.value.contains('\\') {
                diag = diag.with_fix(Fix::new(
                    "use 127.0.0.1",
                    Applicability::Unsafe,
                    vec![Edit::replace(
                        d.file,
                        crate::source::TextRange::new(at, at + 9),
                        "127.0.0.1",
                    )],
                ));
            }
            out.push(diag);
        }
    }
}
