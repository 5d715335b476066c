//! `fpm-terminate-timeout-negative`: a negative `request_terminate_timeout` passes
//! `php-fpm -t`, but makes FPM's heartbeat negative, and FPM then arms no terminate timer at
//! all: the timeouts of every pool of that master are off.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::rule_meta;
use crate::rules::stack::context::pools;
use crate::rules::{Checker, Rule, RuleMeta};

/// The rule.
pub struct NegativeTerminate;
rule_meta!(
    META,
    "fpm-terminate-timeout-negative",
    Error,
    [Fpm],
    "a negative request_terminate_timeout silently turns off the terminate timeouts of every pool of the master",
    Some(Applicability::Unsafe)
);

impl Rule for NegativeTerminate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let all = pools(cx.stack);
        for p in &all {
            let Some(d) = p.pool.get("request_terminate_timeout") else {
                continue;
            };
            // An unreadable value is a start-up refusal, reported elsewhere.
            if matches!(p.pool.seconds("request_terminate_timeout"), Some(n) if n < 0) {
                let mut diag = Diagnostic::new(
                    META.id,
                    META.severity,
                    d.origin.file,
                    d.origin.value_range,
                    format!(
                        "request_terminate_timeout = {} in pool [{}] is negative: `php-fpm -t` accepts it, but FPM's heartbeat becomes negative and no terminate timer runs, so hung requests are never killed in any pool of this master",
                        d.value, p.pool.name
                    ),
                );
                for other in all
                    .iter()
                    .filter(|o| o.cfg == p.cfg && o.pool.name != p.pool.name)
                {
                    if let Some(od) = other.pool.get("request_terminate_timeout") {
                        if other.pool.request_terminate_timeout() > 0 {
                            diag = diag.with_related(
                                od.origin.file,
                                od.origin.value_range,
                                format!("pool [{}]'s timeout no longer applies", other.pool.name),
                            );
                        }
                    }
                }
                out.push(diag.with_fix(Fix::new(
                    "request_terminate_timeout = 0 (off for this pool only)",
                    Applicability::Unsafe,
                    vec![Edit::replace(d.origin.file, d.origin.value_range, "0")],
                )));
            }
        }
    }
}
