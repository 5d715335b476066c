//! `proxy-connect-timeout-too-low`: a `*_connect_timeout` below the minimum, or above the
//! 75 seconds nginx documents it usually cannot exceed.

use super::timeouts::check_timeouts;
use super::util::option_time_ms;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct ProxyConnectTimeoutTooLow;

static META: RuleMeta = RuleMeta {
    id: "proxy-connect-timeout-too-low",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_connect_timeout / fastcgi_connect_timeout in effect for a pass is below the minimum or above 75s",
    fix: Some(Applicability::Unsafe),
    options: &[
        OptionMeta {
            name: "min",
            default: "1s",
            doc: "the shortest connect timeout accepted (nginx's default is 60s)",
        },
        OptionMeta {
            name: "max",
            default: "75s",
            doc: "the longest connect timeout accepted; nginx documents that it usually cannot exceed 75 seconds",
        },
    ],
};

impl Rule for ProxyConnectTimeoutTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let min = option_time_ms(cx, META.id, "min", "1s");
        let max = option_time_ms(cx, META.id, "max", "75s");
        check_timeouts(cx, &META, "connect_timeout", min, Some(max), out);
    }
}
