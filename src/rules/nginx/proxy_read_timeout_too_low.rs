//! `proxy-read-timeout-too-low`: a `*_read_timeout` so short that ordinary slow responses
//! end in 504.

use super::timeouts::check_timeouts;
use super::util::option_time_ms;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct ProxyReadTimeoutTooLow;

static META: RuleMeta = RuleMeta {
    id: "proxy-read-timeout-too-low",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_read_timeout / fastcgi_read_timeout in effect for a pass is below the minimum",
    fix: Some(Applicability::Unsafe),
    options: &[OptionMeta {
        name: "min",
        default: "10s",
        doc: "the shortest read timeout accepted (nginx's default is 60s)",
    }],
};

impl Rule for ProxyReadTimeoutTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let min = option_time_ms(cx, META.id, "min", "10s");
        check_timeouts(cx, &META, "read_timeout", min, None, out);
    }
}
