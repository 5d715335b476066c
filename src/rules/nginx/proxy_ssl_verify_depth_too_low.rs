//! `proxy-ssl-verify-depth-too-low`: `proxy_ssl_verify on` with a verification depth too
//! small for chains with intermediates (nginx's default is 1).

use super::tls::tls_passes;
use super::util::{eff_arg, eff_flag, option_int, set_scalar};
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::FileKind;
use std::collections::HashSet;

/// The rule.
pub struct ProxySslVerifyDepthTooLow;

static META: RuleMeta = RuleMeta {
    id: "proxy-ssl-verify-depth-too-low",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_ssl_verify is on with a verify depth too low for certificate chains with intermediates",
    fix: Some(Applicability::Unsafe),
    options: &[OptionMeta {
        name: "min_depth",
        default: "2",
        doc: "the smallest proxy_ssl_verify_depth accepted (nginx's default is 1; a leaf, an intermediate and a root need 2, cross-signed chains 3)",
    }],
};

impl Rule for ProxySslVerifyDepthTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let min = option_int(cx, META.id, "min_depth", 2).max(0) as u64;
        let mut seen = HashSet::new();
        for (id, _, prefix) in tls_passes(m, true) {
            let d = m.directive(id);
            let block = d.parent;
            if !eff_flag(m, block, &format!("{prefix}_ssl_verify"), false) {
                continue;
            }
            let name = format!("{prefix}_ssl_verify_depth");
            let (set, depth) = match eff_arg(m, block, &name) {
                Some((did, v)) => match v.parse::<u64>() {
                    Ok(n) => (Some(did), n),
                    Err(_) => continue,
                },
                None => (None, 1),
            };
            if depth >= min {
                continue;
            }
            // Report a set value once, where it is written; an unset one at each block.
            let key = set.map(|s| (s.0, 0)).unwrap_or((block.0, 1));
            if !seen.insert(key) {
                continue;
            }
            let (file, range, fix_block) = super::util::value_place(m, set, id, block);
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                file,
                range,
                format!("`{name}` is {depth}{}: a chain with more intermediates fails verification (`upstream SSL certificate verify error: (20:unable to get local issuer certificate)`)", if set.is_none() { " (nginx's default)" } else { "" }),
            );
            if let Some(e) = set_scalar(m, cx.files, fix_block, &name, &min.to_string()) {
                diag = diag.with_fix(Fix::new(
                    format!("set {name} {min}"),
                    Applicability::Unsafe,
                    e,
                ));
            }
            out.push(diag);
        }
    }
}
