//! `proxy-scheme-port-mismatch`: `proxy_pass http://` to a port that speaks TLS, or
//! `https://` to a port that speaks plain HTTP.

use super::pass_directives;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx_values::{Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::{FileKind, TextRange};

/// The rule.
pub struct ProxySchemePortMismatch;

static META: RuleMeta = RuleMeta {
    id: "proxy-scheme-port-mismatch",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_pass uses http:// to a TLS port or https:// to a plain HTTP port",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

/// Ports that conventionally speak TLS.
const TLS_PORTS: [u16; 3] = [443, 8443, 9443];
/// Ports that conventionally speak plain HTTP.
const PLAIN_PORTS: [u16; 5] = [80, 8080, 3000, 5000, 8000];

impl Rule for ProxySchemePortMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t) in pass_directives(m) {
            if t.kind != PassKind::Proxy {
                continue;
            }
            let Some(scheme) = t.scheme else {
                continue;
            };
            let tls = scheme.eq_ignore_ascii_case("https://");
            let d = m.directive(id);
            let Some(arg) = d.args.first() else { continue };
            let Endpoint::Host { host, port } = &t.endpoint else {
                continue;
            };
            let mismatched = |p: u16| {
                if tls {
                    PLAIN_PORTS.contains(&p)
                } else {
                    TLS_PORTS.contains(&p)
                }
            };
            let mut related = None;
            let bad_port = match port {
                Some(p) => mismatched(*p).then_some(*p),
                None => {
                    let Some(up) = m.upstream_named(d.parent, host) else {
                        continue;
                    };
                    let ports: Vec<(crate::model::nginx::DirectiveId, Option<u16>)> = m
                        .here(up, "server")
                        .map(|s| {
                            let a = m.directive(s).arg(0).unwrap_or("");
                            let p = a.rsplit_once(':').and_then(|(h, p)| {
                                (!h.ends_with(':')).then(|| p.parse().ok()).flatten()
                            });
                            (s, p)
                        })
                        .collect();
                    // Every server on a mismatched port (a server without a port is on 80).
                    let all_bad =
                        !ports.is_empty() && ports.iter().all(|(_, p)| mismatched(p.unwrap_or(80)));
                    if !all_bad {
                        continue;
                    }
                    related = ports.first().map(|(s, _)| *s);
                    ports.first().map(|(_, p)| p.unwrap_or(80))
                }
            };
            let Some(p) = bad_port else { continue };
            let (other, what) = if tls {
                ("http://", format!("`https://` to port {p}, which conventionally speaks plain HTTP: the TLS handshake fails (`SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number)`)"))
            } else {
                ("https://", format!("`http://` to port {p}, which conventionally speaks TLS: the backend answers `400 The plain HTTP request was sent to HTTPS port` or resets the connection"))
            };
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("proxy_pass sends {what}"),
            );
            if let Some(s) = related {
                let s = m.directive(s);
                diag = diag.with_related(s.file, s.range, "the upstream server");
            }
            let q = u32::from(arg.quoted);
            let start = arg.range.start + q;
            diag = diag.with_fix(Fix::new(
                format!("use {other}"),
                Applicability::Unsafe,
                vec![Edit::replace(
                    d.file,
                    TextRange::new(start, start + scheme.len() as u32),
                    other,
                )],
            ));
            out.push(diag);
        }
    }
}
