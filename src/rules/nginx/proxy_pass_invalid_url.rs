//! `proxy-pass-invalid-url`: a `*_pass` argument nginx cannot parse (no `http://`, a bad
//! port, no host, a URL given to a directive that takes an address).

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx_values::{PassError, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::{FileKind, TextRange};

/// The rule.
pub struct ProxyPassInvalidUrl;

static META: RuleMeta = RuleMeta {
    id: "proxy-pass-invalid-url",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a *_pass argument nginx refuses: no scheme, an invalid port or no host",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for ProxyPassInvalidUrl {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, parsed) in super::pass_parses(m) {
            let d = m.directive(id);
            let Some(kind) = PassKind::of(&d.name) else {
                continue;
            };
            let Some(arg) = d.args.first() else { continue };
            let v = arg.value.as_str();
            // A URL given to a directive that takes a bare address.
            let url_to_address =
                kind.schemes().is_empty() && v.contains("://") && !v.starts_with('$');
            let err = match parsed {
                Err(e) if *e != PassError::RelativeSocket => Some(e.clone()),
                _ if url_to_address => Some(PassError::NoHost),
                _ => None,
            };
            let Some(err) = err else { continue };
            let (message, fix) = match err {
                PassError::InvalidPrefix => (
                    format!(
                        "invalid URL prefix in \"{v}\": `{}` needs `http://` or `https://`",
                        d.name
                    ),
                    Some(Fix::new(
                        "add http://",
                        Applicability::Unsafe,
                        vec![Edit::insert(
                            d.file,
                            arg.range.start + u32::from(arg.quoted),
                            "http://",
                        )],
                    )),
                ),
                PassError::InvalidPort => (format!("invalid port in upstream \"{v}\""), None),
                PassError::NoHost if url_to_address => {
                    let after = v
                        .split_once("://")
                        .map(|(_, r)| r.trim_end_matches('/'))
                        .unwrap_or(v);
                    let fix = (!after.is_empty() && !after.contains('/')).then(|| {
                        Fix::new(
                            format!("pass the address {after}"),
                            Applicability::Unsafe,
                            vec![Edit::replace(
                                d.file,
                                TextRange::new(arg.range.start, arg.range.end),
                                after.to_string(),
                            )],
                        )
                    });
                    (format!("invalid host in upstream \"{v}\": `{}` takes an address (`host:port` or `unix:/path`), not a URL", d.name), fix)
                }
                _ => (format!("no host in \"{v}\""), None),
            };
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("nginx refuses this configuration: {message}"),
            );
            if let Some(f) = fix {
                diag = diag.with_fix(f);
            }
            out.push(diag);
        }
    }
}
