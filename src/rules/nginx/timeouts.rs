//! The check shared by the timeout rules: the `*_read_timeout` / `*_connect_timeout` in
//! effect where each `*_pass` is, against a minimum and an optional maximum.

use super::pass_directives;
use super::util::eff_time;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::nginx_values::{format_time_ms, PassKind};
use crate::rules::{Checker, RuleMeta};
use std::collections::HashSet;

/// The module prefix of a pass kind (`proxy`, `fastcgi`, …).
pub fn prefix(kind: PassKind) -> &'static str {
    kind.module()
}

/// Report every set `*_{suffix}` in effect at a pass that is below `min_ms` or above
/// `max_ms`, once per directive, with a fix that sets the nearest allowed value.
pub fn check_timeouts(
    cx: &Checker<'_>,
    meta: &'static RuleMeta,
    suffix: &str,
    min_ms: u64,
    max_ms: Option<u64>,
    out: &mut Vec<Diagnostic>,
) {
    let m = &cx.stack.nginx;
    let mut seen = HashSet::new();
    // The directive name of each pass kind, made once (thousands of passes share a few).
    let mut names: Vec<(crate::model::nginx_values::PassKind, String)> = Vec::new();
    for (pass, target) in pass_directives(m) {
        let at = match names.iter().position(|(k, _)| *k == target.kind) {
            Some(i) => i,
            None => {
                names.push((target.kind, format!("{}_{suffix}", prefix(target.kind))));
                names.len() - 1
            }
        };
        let name = names[at].1.as_str();
        let block = m.directive(pass).parent;
        let Some((Some(id), ms)) = eff_time(m, block, name, 60_000) else {
            continue;
        };
        let (want, why) = if ms < min_ms {
            (
                min_ms,
                format!("below the minimum of {}", format_time_ms(min_ms)),
            )
        } else if max_ms.is_some_and(|x| ms > x) {
            let x = max_ms.unwrap_or(ms);
            (x, format!("above {}, which nginx documents it usually cannot exceed (the system's connect timeout applies)", format_time_ms(x)))
        } else {
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        let d = m.directive(id);
        let Some(arg) = d.args.first() else { continue };
        let mut diag = Diagnostic::new(meta.id, meta.severity, d.file, arg.range, format!("`{name} {}` is {why}", arg.value))
            .with_related(m.directive(pass).file, m.directive(pass).range, "the pass it applies to")
            .with_help(format!("nginx's default is 60s; upstream requests that take longer end with 504 (`upstream timed out (110: Connection timed out) while {}`)", if suffix == "read_timeout" { "reading response header from upstream" } else { "connecting to upstream" }));
        if d.file == m.block(d.parent).file {
            diag = diag.with_fix(Fix::new(
                format!("set {name} {}", format_time_ms(want)),
                Applicability::Unsafe,
                vec![Edit::replace(d.file, arg.range, format_time_ms(want))],
            ));
        }
        out.push(diag);
    }
}
