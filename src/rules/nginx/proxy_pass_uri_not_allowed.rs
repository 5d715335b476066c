//! `proxy-pass-uri-not-allowed`: a `proxy_pass` with a URI part where nginx forbids one
//! (regex and named locations, `if`, `limit_except`).

use super::pass_directives;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx::BlockKind;
use crate::model::nginx_values::PassKind;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::{FileKind, TextRange};

/// The rule.
pub struct ProxyPassUriNotAllowed;

static META: RuleMeta = RuleMeta {
    id: "proxy-pass-uri-not-allowed",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "proxy_pass has a URI part inside a regex or named location, an if or a limit_except",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for ProxyPassUriNotAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t) in pass_directives(m) {
            if t.kind != PassKind::Proxy || t.uri.is_none() {
                continue;
            }
            let d = m.directive(id);
            let Some(arg) = d.args.first() else { continue };
            // With variables nginx builds the URI at run time and allows it everywhere.
            if arg.value.contains('$') {
                continue;
            }
            let blk = m.block(d.parent);
            let place = match blk.kind {
                BlockKind::LocationIf | BlockKind::ServerIf => "inside an \"if\" statement",
                BlockKind::LimitExcept => "inside a \"limit_except\" block",
                BlockKind::Location => {
                    let loc = blk.directive.map(|l| m.directive(l));
                    let first = loc.and_then(|l| l.arg(0)).unwrap_or("");
                    if first == "~" || first == "~*" {
                        "in a location given by regular expression"
                    } else if first.starts_with('@') {
                        "inside a named location"
                    } else {
                        continue;
                    }
                }
                _ => continue,
            };
            let q = u32::from(arg.quoted);
            let start = arg.range.start + q + t.address.end as u32;
            let end = arg.range.end - q;
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("nginx refuses this configuration: \"proxy_pass\" cannot have URI part ({}) {place}", t.uri.as_deref().unwrap_or("")),
            )
            .with_help("drop the URI part and rewrite the path with `rewrite … break;`, or move the proxy_pass into a prefix location");
            if let Some(l) = blk.directive {
                let l = m.directive(l);
                diag =
                    diag.with_related(l.file, l.name_range(), "the block that forbids a URI part");
            }
            if end > start && arg.value.is_ascii() && !arg.value.contains('\\') {
                diag = diag.with_fix(Fix::new(
                    "remove the URI part (the request URI is then passed unchanged)",
                    Applicability::Unsafe,
                    vec![Edit::delete(d.file, TextRange::new(start, end))],
                ));
            }
            out.push(diag);
        }
    }
}
