//! `proxy-ssl-verify-without-trusted-cert`: `proxy_ssl_verify on` where a TLS pass has no
//! `proxy_ssl_trusted_certificate`: nginx refuses the configuration.

use super::tls::tls_passes;
use super::util::{eff_arg, set_scalar};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;
use std::collections::HashSet;

/// The rule.
pub struct ProxySslVerifyWithoutTrustedCert;

static META: RuleMeta = RuleMeta {
    id: "proxy-ssl-verify-without-trusted-cert",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "proxy_ssl_verify is on but no proxy_ssl_trusted_certificate is in effect",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

/// The CA bundle of Debian, Ubuntu and Alpine (`ca-certificates`).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

impl Rule for ProxySslVerifyWithoutTrustedCert {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let mut seen = HashSet::new();
        for (id, _, prefix) in tls_passes(m, true) {
            let d = m.directive(id);
            let verify = format!("{prefix}_ssl_verify");
            let Some((vid, v)) = eff_arg(m, d.parent, &verify) else {
                continue;
            };
            if !v.eq_ignore_ascii_case("on") {
                continue;
            }
            let trusted = format!("{prefix}_ssl_trusted_certificate");
            if m.effective(d.parent, &trusted).is_some() {
                continue;
            }
            if !seen.insert(vid) {
                continue;
            }
            let vd = m.directive(vid);
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                vd.file,
                vd.range,
                format!("nginx refuses this configuration: no {trusted} for {verify}"),
            )
            .with_related(d.file, d.range, "the TLS pass it applies to")
            .with_help(format!("add `{trusted} {CA_BUNDLE};` (the system CA bundle) or the CA file that signed the upstream's certificate"));
            if let Some(e) = set_scalar(m, cx.files, vd.parent, &trusted, CA_BUNDLE) {
                diag = diag.with_fix(Fix::new(
                    format!("trust the system CA bundle {CA_BUNDLE}"),
                    Applicability::Unsafe,
                    e,
                ));
            }
            out.push(diag);
        }
    }
}
