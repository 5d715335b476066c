//! Rules that read PHP-FPM configurations.
//!
//! The start-up refusals are computed by the FPM model (it knows FPM's exact checks and
//! messages); each refusal rule reports the refusals of its kind.

pub mod allowed_clients;
pub mod duplicate_listen;
pub mod negative_terminate;
pub mod socket_dir;

use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

crate::rule_pack! {
    "fpm-pm-start-servers-out-of-range" => START_SERVERS,
    "fpm-pm-spare-exceeds-max-children" => SPARE,
    "fpm-pm-required-values-invalid" => REQUIRED,
    "fpm-slowlog-timeout-exceeds-terminate" => SLOWLOG,
    "fpm-duplicate-listen-address" => duplicate_listen::DuplicateListen,
    "fpm-pool-structure-invalid" => STRUCTURE,
    "fpm-allowed-clients-empty-or-invalid" => allowed_clients::AllowedClientsEmpty,
    "fpm-socket-dir-not-runtime-managed" => socket_dir::SocketDirNotRuntime,
    "fpm-terminate-timeout-negative" => negative_terminate::NegativeTerminate,
}

/// A rule that reports one kind of FPM start-up refusal.
pub struct Refusal {
    meta: &'static RuleMeta,
}

impl Rule for Refusal {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        out.extend(
            cx.stack
                .fpm_refusals
                .iter()
                .filter(|d| d.rule == self.meta.id)
                .cloned(),
        );
    }
}

/// Declare a refusal rule: its static metadata and the rule value.
macro_rules! refusal_rule {
    ($name:ident, $id:literal, $summary:literal, $fix:expr) => {
        #[doc = concat!("`", $id, "`.")]
        pub static $name: Refusal = Refusal {
            meta: &RuleMeta {
                id: $id,
                severity: Severity::Error,
                kinds: &[FileKind::Fpm],
                summary: $summary,
                fix: $fix,
                options: &[],
            },
        };
    };
}

refusal_rule!(
    START_SERVERS,
    "fpm-pm-start-servers-out-of-range",
    "pm.start_servers lies outside [pm.min_spare_servers, pm.max_spare_servers]: PHP-FPM refuses to start",
    Some(Applicability::Unsafe)
);
refusal_rule!(
    SPARE,
    "fpm-pm-spare-exceeds-max-children",
    "pm.min_spare_servers or pm.max_spare_servers is above pm.max_children, or max below min: PHP-FPM refuses to start",
    Some(Applicability::Unsafe)
);
refusal_rule!(
    REQUIRED,
    "fpm-pm-required-values-invalid",
    "pm is missing or unknown, or a required pm.* value is not positive: PHP-FPM refuses to start",
    None
);
refusal_rule!(
    SLOWLOG,
    "fpm-slowlog-timeout-exceeds-terminate",
    "request_slowlog_timeout is above request_terminate_timeout, or set without slowlog: PHP-FPM refuses to start",
    Some(Applicability::Unsafe)
);
refusal_rule!(
    STRUCTURE,
    "fpm-pool-structure-invalid",
    "the PHP-FPM configuration has no pool, a pool without listen, an unknown entry or a line FPM cannot read: FPM refuses to start",
    None
);
