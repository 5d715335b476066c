//! `proxy-ssl-name-is-ip`: SNI is on but the name nginx would send is an IP address or an
//! `upstream` block's name, which the upstream's TLS server does not know.

use super::tls::tls_passes;
use super::util::eff_flag;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx_values::{is_ip_literal, Endpoint};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct ProxySslNameIsIp;

static META: RuleMeta = RuleMeta {
    id: "proxy-ssl-name-is-ip",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_ssl_server_name is on but the server name sent is an IP address or an upstream block name",
    fix: None,
    options: &[],
};

impl Rule for ProxySslNameIsIp {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t, prefix) in tls_passes(m, false) {
            let d = m.directive(id);
            if !eff_flag(m, d.parent, &format!("{prefix}_ssl_server_name"), false)
                || m.effective(d.parent, &format!("{prefix}_ssl_name"))
                    .is_some()
            {
                continue;
            }
            let Endpoint::Host { host, .. } = &t.endpoint else {
                continue;
            };
            let what = if is_ip_literal(host) {
                format!("the IP address {host}, which nginx does not send as a server name at all")
            } else if let Some(up) = m.upstream_named(d.parent, host) {
                let _ = up;
                format!("`{host}`, the name of the upstream block, not a name the upstream's certificate or virtual host knows")
            } else {
                continue;
            };
            let Some(arg) = d.args.first() else { continue };
            out.push(
                Diagnostic::new(
                    META.id,
                    META.severity,
                    d.file,
                    arg.range,
                    format!("`{prefix}_ssl_server_name on` without `{prefix}_ssl_name`: the server name is {what} (`SSL_do_handshake() failed … unrecognized name`)"),
                )
                .with_help(format!("add `{prefix}_ssl_name NAME;` with the name the upstream serves (or `$host` when it serves the same names as this server)")),
            );
        }
    }
}
