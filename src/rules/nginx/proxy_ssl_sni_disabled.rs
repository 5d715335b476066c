//! `proxy-ssl-sni-disabled`: `proxy_pass https://name` without `proxy_ssl_server_name on`,
//! so the TLS handshake carries no server name.

use super::tls::tls_passes;
use super::util::{eff_flag, set_scalar};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx_values::{is_ip_literal, Endpoint};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;
use std::collections::HashSet;

/// The rule.
pub struct ProxySslSniDisabled;

static META: RuleMeta = RuleMeta {
    id: "proxy-ssl-sni-disabled",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_pass https:// to a host name without proxy_ssl_server_name on",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for ProxySslSniDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let mut seen = HashSet::new();
        for (id, t, prefix) in tls_passes(m, false) {
            let d = m.directive(id);
            let name = format!("{prefix}_ssl_server_name");
            if eff_flag(m, d.parent, &name, false) {
                continue;
            }
            // Only a DNS name has a server name to send: an address has none, and an
            // upstream block's name is no name the backend knows (proxy-ssl-name-is-ip).
            if let Endpoint::Host { host, .. } = &t.endpoint {
                if is_ip_literal(host) || m.upstream_named(d.parent, host).is_some() {
                    continue;
                }
            }
            if !seen.insert(d.parent) {
                continue;
            }
            let Some(arg) = d.args.first() else { continue };
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("`{name}` is off here (nginx's default), so the TLS handshake to the upstream carries no server name; CDNs and servers with several certificates refuse it (`SSL_do_handshake() failed … alert handshake failure`) or present the wrong certificate"),
            );
            if let Some(off) = m.effective(d.parent, &name) {
                let o = m.directive(off);
                diag = diag.with_related(o.file, o.range, "turned off here");
            }
            if let Some(e) = set_scalar(m, cx.files, d.parent, &name, "on") {
                diag = diag.with_fix(Fix::new(format!("set {name} on"), Applicability::Unsafe, e));
            }
            out.push(diag);
        }
    }
}
