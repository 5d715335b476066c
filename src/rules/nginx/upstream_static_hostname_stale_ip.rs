//! `upstream-static-hostname-stale-ip`: a pass or upstream server by DNS name, resolved
//! once when nginx starts; a backend that moves to a new address is dialled at the old one.

use super::pass_directives;
use super::util::{server_has_flag, upstream_blocks};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::DirectiveId;
use crate::model::nginx_values::{is_ip_literal, Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct UpstreamStaticHostnameStaleIp;

static META: RuleMeta = RuleMeta {
    id: "upstream-static-hostname-stale-ip",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "an upstream host name is resolved once at start and never again",
    fix: None,
    options: &[],
};

impl Rule for UpstreamStaticHostnameStaleIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let mut found: Vec<(DirectiveId, String)> = Vec::new();
        for (id, t) in pass_directives(m) {
            let d = m.directive(id);
            if !super::complete(m, d.parent) {
                continue;
            }
            if d.args.first().is_some_and(|a| a.value.contains('$')) {
                continue;
            }
            let Endpoint::Host { host, port } = &t.endpoint else {
                continue;
            };
            // Without a port only proxy_pass resolves a name (the others
            // refuse it: proxy-pass-unknown-upstream).
            if port.is_none() && t.kind != PassKind::Proxy {
                continue;
            }
            if is_dns_name(host) && m.upstream_named(d.parent, host).is_none() {
                found.push((id, host.clone()));
            }
        }
        for (_, up) in upstream_blocks(m) {
            for s in m.here(up, "server") {
                if server_has_flag(m, s, "resolve") {
                    continue;
                }
                let a = m.directive(s).arg(0).unwrap_or("");
                if a.starts_with("unix:") || a.starts_with('[') {
                    continue;
                }
                let host = a
                    .rsplit_once(':')
                    .map(|(h, _)| h)
                    .unwrap_or(a)
                    .to_ascii_lowercase();
                if is_dns_name(&host) {
                    found.push((s, host));
                }
            }
        }
        for (id, host) in found {
            let d = m.directive(id);
            let Some(arg) = d.args.first() else { continue };
            out.push(
                Diagnostic::new(
                    META.id,
                    META.severity,
                    d.file,
                    arg.range,
                    format!("nginx resolves `{host}` once when it starts and keeps that address until a reload; when the backend gets a new address (a recreated container, a moved load balancer) requests go to the old one and fail with 502"),
                )
                .with_help("in an `upstream` block add `resolve` to the server (nginx 1.27.3 or later, with a `zone` and a `resolver`), or set the host in a variable with a `resolver` in scope"),
            );
        }
    }
}

/// True for a host that DNS must resolve: not a literal address, not `localhost`.
fn is_dns_name(host: &str) -> bool {
    !host.is_empty() && !is_ip_literal(host) && host != "localhost" && !host.starts_with("unix:")
}
