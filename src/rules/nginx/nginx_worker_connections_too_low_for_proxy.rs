//! `nginx-worker-connections-too-low-for-proxy`: a proxying configuration whose
//! `worker_connections` (default 512) is below the minimum; each proxied request holds two.

use super::pass_directives;
use super::util::{insert_line, option_int, replace_arg};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx::{BlockId, BlockKind, NginxModel};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct NginxWorkerConnectionsTooLowForProxy;

static META: RuleMeta = RuleMeta {
    id: "nginx-worker-connections-too-low-for-proxy",
    severity: Severity::Info,
    kinds: &[FileKind::Nginx],
    summary: "worker_connections is below the minimum in a configuration that proxies",
    fix: Some(Applicability::Unsafe),
    options: &[OptionMeta {
        name: "min",
        default: "1024",
        doc: "the smallest worker_connections accepted for a proxy (nginx's default is 512)",
    }],
};

/// The main blocks (with an `events` block) of configurations that pass requests on.
pub fn proxying_mains(m: &NginxModel) -> Vec<(BlockId, BlockId)> {
    let mut mains = crate::model::hash::FastSet::default();
    for (id, _) in pass_directives(m) {
        mains.insert(m.main_of(m.directive(id).parent));
    }
    let mut out: Vec<(BlockId, BlockId)> = mains
        .into_iter()
        .filter(|b| m.block(*b).kind == BlockKind::Main)
        .filter_map(|b| {
            let ev = m.here(b, "events").last()?;
            Some((b, m.directive(ev).block?))
        })
        .collect();
    out.sort();
    out
}

/// The effective `worker_connections` of an events block (nginx's default is 512).
pub fn worker_connections(
    m: &NginxModel,
    events: BlockId,
) -> Option<(Option<crate::model::nginx::DirectiveId>, i64)> {
    match m.here(events, "worker_connections").last() {
        Some(id) => Some((Some(id), m.directive(id).arg(0)?.parse().ok()?)),
        None => Some((None, 512)),
    }
}

impl Rule for NginxWorkerConnectionsTooLowForProxy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let min = option_int(cx, META.id, "min", 1024);
        for (_, events) in proxying_mains(m) {
            let Some((set, n)) = worker_connections(m, events) else {
                continue;
            };
            if n >= min {
                continue;
            }
            let (file, range, edit) = match set {
                Some(id) => {
                    let d = m.directive(id);
                    (
                        d.file,
                        d.args.first().map(|a| a.range).unwrap_or(d.range),
                        replace_arg(m, id, 0, &min.to_string()),
                    )
                }
                None => {
                    let Some(ev) = m.block(events).directive else {
                        continue;
                    };
                    let e = m.directive(ev);
                    (
                        e.file,
                        e.name_range(),
                        insert_line(m, cx.files, events, &format!("worker_connections {min};")),
                    )
                }
            };
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                file,
                range,
                format!("worker_connections is {n}{}: each proxied request holds two connections (client and upstream), so about {} concurrent requests exhaust a worker (`worker_connections are not enough while connecting to upstream`)", if set.is_none() { " (nginx's default)" } else { "" }, n / 2),
            )
            .with_help("raise worker_connections, with a worker_rlimit_nofile of at least twice as much");
            if let Some(e) = edit {
                diag = diag.with_fix(Fix::new(
                    format!("set worker_connections {min}"),
                    Applicability::Unsafe,
                    vec![e],
                ));
            }
            out.push(diag);
        }
    }
}
