//! `upstream-down-placeholder-breaks-single-server`: one live server plus `down`
//! placeholders: the placeholder takes away the single-server exemption from `max_fails`,
//! so one error marks the only server unavailable for `fail_timeout`.

use super::util::{line_range, server_has_flag, upstream_blocks};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct UpstreamDownPlaceholderBreaksSingleServer;

static META: RuleMeta = RuleMeta {
    id: "upstream-down-placeholder-breaks-single-server",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "an upstream has one live server plus down placeholders, so one failure takes the only server out",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for UpstreamDownPlaceholderBreaksSingleServer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (uid, up) in upstream_blocks(m) {
            let servers: Vec<_> = m.here(up, "server").collect();
            let (down, live): (Vec<_>, Vec<_>) = servers
                .iter()
                .copied()
                .partition(|s| server_has_flag(m, *s, "down"));
            if down.is_empty() || live.len() != 1 || server_has_flag(m, live[0], "backup") {
                continue;
            }
            let l = m.directive(live[0]);
            if l.args.iter().any(|a| a.value == "max_fails=0") {
                continue;
            }
            let name = m.directive(uid).arg(0).unwrap_or("");
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                l.file,
                l.range,
                format!("upstream `{name}` has one live server and {} `down` placeholder(s): nginx no longer treats it as a single-server upstream, so one failed attempt marks this server unavailable for `fail_timeout` (10s by default) and every request meanwhile fails with 502 (`no live upstreams`)", down.len()),
            )
            .with_help("remove the `down` placeholders, or add `max_fails=0` to the live server");
            let up_file = m.block(up).file;
            let mut edits = Vec::new();
            for s in &down {
                let sd = m.directive(*s);
                diag = diag.with_related(sd.file, sd.range, "placeholder marked down");
                if sd.file == up_file {
                    edits.push(Edit::delete(sd.file, line_range(m, cx.files, *s)));
                }
            }
            if edits.len() == down.len() {
                diag = diag.with_fix(Fix::new(
                    "remove the down placeholders",
                    Applicability::Unsafe,
                    edits,
                ));
            }
            out.push(diag);
        }
    }
}
