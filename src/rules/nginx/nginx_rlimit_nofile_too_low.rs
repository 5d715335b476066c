//! `nginx-rlimit-nofile-too-low`: a proxying configuration whose open-file limit cannot
//! hold two descriptors per worker connection.

use super::nginx_worker_connections_too_low_for_proxy::{proxying_mains, worker_connections};
use super::util::{insert_before, option_int, replace_arg};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct NginxRlimitNofileTooLow;

static META: RuleMeta = RuleMeta {
    id: "nginx-rlimit-nofile-too-low",
    severity: Severity::Info,
    kinds: &[FileKind::Nginx],
    summary: "worker_rlimit_nofile is unset or below twice worker_connections in a configuration that proxies",
    fix: Some(Applicability::Unsafe),
    options: &[OptionMeta {
        name: "assumed_ulimit",
        default: "1024",
        doc: "the open-file limit assumed when worker_rlimit_nofile is unset (the usual soft limit of a service)",
    }],
};

impl Rule for NginxRlimitNofileTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let ulimit = option_int(cx, META.id, "assumed_ulimit", 1024);
        for (main, events) in proxying_mains(m) {
            let Some((_, wc)) = worker_connections(m, events) else {
                continue;
            };
            let need = wc.saturating_mul(2);
            let set = m.here(main, "worker_rlimit_nofile").last();
            let (have, file, range, edit) = match set {
                Some(id) => {
                    let d = m.directive(id);
                    let Some(v) = d.arg(0).and_then(|v| v.parse::<i64>().ok()) else {
                        continue;
                    };
                    (
                        v,
                        d.file,
                        d.args.first().map(|a| a.range).unwrap_or(d.range),
                        replace_arg(m, id, 0, &need.to_string()),
                    )
                }
                None => {
                    let Some(ev) = m.block(events).directive else {
                        continue;
                    };
                    let e = m.directive(ev);
                    (
                        ulimit,
                        e.file,
                        e.name_range(),
                        Some(insert_before(
                            m,
                            ev,
                            &format!("worker_rlimit_nofile {need};"),
                        )),
                    )
                }
            };
            if have >= need {
                continue;
            }
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                file,
                range,
                format!("each worker may open {have} files{} but needs up to {need} for {wc} worker_connections when proxying (`socket() failed (24: Too many open files) while connecting to upstream`)", if set.is_none() { " (worker_rlimit_nofile unset: the service's limit applies)" } else { "" }),
            );
            if let Some(e) = edit {
                diag = diag.with_fix(Fix::new(
                    format!("set worker_rlimit_nofile {need}"),
                    Applicability::Unsafe,
                    vec![e],
                ));
            }
            out.push(diag);
        }
    }
}
