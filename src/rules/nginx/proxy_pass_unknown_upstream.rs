//! `proxy-pass-unknown-upstream`: a `*_pass` to a bare name without a port that is no
//! `upstream` block: nginx treats it as a host name (`no port in upstream` for FastCGI and
//! the others, `host not found in upstream` for proxy_pass when DNS does not know it).

use super::pass_directives;
use super::util::upstream_blocks;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx_values::{is_ip_literal, Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct ProxyPassUnknownUpstream;

static META: RuleMeta = RuleMeta {
    id: "proxy-pass-unknown-upstream",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a *_pass names a host without a port that is no upstream block",
    fix: None,
    options: &[],
};

impl Rule for ProxyPassUnknownUpstream {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let all_upstreams = upstream_blocks(m);
        for (id, t) in pass_directives(m) {
            let Endpoint::Host { host, port: None } = &t.endpoint else {
                continue;
            };
            let d = m.directive(id);
            if !super::complete(m, d.parent) {
                continue;
            }
            if m.upstream_named(d.parent, host).is_some()
                || (t.kind == PassKind::Proxy && is_ip_literal(host))
            {
                continue;
            }
            let Some(arg) = d.args.first() else { continue };
            let upstreams: Vec<String> = all_upstreams
                .iter()
                .filter(|(u, _)| m.main_of(m.directive(*u).parent) == m.main_of(d.parent))
                .filter_map(|(u, _)| m.directive(*u).arg(0).map(str::to_string))
                .collect();
            let message = match t.kind {
                PassKind::Proxy => {
                    // proxy_pass defaults to port 80 and resolves the name at start: only a
                    // name that looks like a missing upstream (one label, upstreams defined,
                    // or one of them spelt alike) is reported.
                    let similar = upstreams.iter().find(|u| similar(u, host));
                    // `_` cannot appear in a DNS host name, so such a name is an upstream's.
                    let looks_like_upstream = similar.is_some() || host.contains('_');
                    if host.contains('.') || host == "localhost" || upstreams.is_empty() || !looks_like_upstream {
                        continue;
                    }
                    format!(
                        "no `upstream {host}` block exists, so nginx looks `{host}` up in DNS at start and refuses to start when it is not found (`host not found in upstream \"{host}\"`){}",
                        similar.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default()
                    )
                }
                _ => format!("nginx refuses this configuration: no port in upstream \"{host}\" (no `upstream {host}` block exists, and `{}` needs `host:port` or `unix:/path`)", d.name),
            };
            out.push(
                Diagnostic::new(META.id, META.severity, d.file, arg.range, message)
                    .with_help("define `upstream NAME { server ADDRESS; }` in http, or pass to `host:port` / `unix:/path`"),
            );
        }
    }
}

/// True when two names differ only in case, `-`/`_`, or by one character.
pub fn similar(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let (a, b) = (norm(a), norm(b));
    if a == b {
        return true;
    }
    let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if x.len().abs_diff(y.len()) > 1 || x.len() < 4 {
        return false;
    }
    // Edit distance of at most one.
    let (mut i, mut j, mut edits) = (0, 0, 0);
    while i < x.len() && j < y.len() {
        if x[i] == y[j] {
            i += 1;
            j += 1;
            continue;
        }
        edits += 1;
        if edits > 1 {
            return false;
        }
        match x.len().cmp(&y.len()) {
            std::cmp::Ordering::Greater => i += 1,
            std::cmp::Ordering::Less => j += 1,
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    edits + (x.len() - i) + (y.len() - j) <= 1
}
