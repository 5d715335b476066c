//! `fpm-allowed-clients-empty-or-invalid`: `listen.allowed_clients` is written but names no
//! address FPM can read, so FPM's allow-list is empty and it drops every connection.
//! (An absent directive admits every client.)

use crate::diagnostic::Diagnostic;
use crate::model::fpm::ListenAddr;
use crate::rule_meta;
use crate::rules::stack::context::pools;
use crate::rules::{Checker, Rule, RuleMeta};

/// The rule.
pub struct AllowedClientsEmpty;
rule_meta!(
    META,
    "fpm-allowed-clients-empty-or-invalid",
    Error,
    [Fpm],
    "listen.allowed_clients is empty or names no IP address: FPM drops every connection",
    None
);

impl Rule for AllowedClientsEmpty {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        for p in pools(cx.stack) {
            // FPM applies the list to TCP sockets only.
            if !matches!(p.listen(), Some(ListenAddr::Tcp { .. })) {
                continue;
            }
            let Some(d) = p.pool.get("listen.allowed_clients") else {
                continue;
            };
            let entries: Vec<&str> = d
                .value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .collect();
            if entries
                .iter()
                .any(|e| e.parse::<std::net::IpAddr>().is_ok())
            {
                continue;
            }
            let range = if d.origin.value_range.is_empty() {
                d.origin.key_range
            } else {
                d.origin.value_range
            };
            let what = if entries.is_empty() {
                "is empty".to_string()
            } else {
                format!("names no IP address FPM can read ({})", entries.join(", "))
            };
            out.push(
                Diagnostic::new(
                    META.id,
                    META.severity,
                    d.origin.file,
                    range,
                    format!(
                        "pool [{}]'s listen.allowed_clients {what}: FPM's allow-list is empty (`There are no allowed addresses`) and every connection is dropped",
                        p.pool.name
                    ),
                )
                .with_help("list IP addresses (e.g. `127.0.0.1`), or comment the line out to admit every client"),
            );
        }
    }
}
