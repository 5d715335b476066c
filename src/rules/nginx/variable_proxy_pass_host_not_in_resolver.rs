//! `variable-proxy-pass-host-not-in-resolver`: a `*_pass` with a variable (anywhere, even
//! in the path) resolves its literal host through `resolver` at run time, and the resolver
//! cannot know `localhost` or a single-label name from the hosts file.

use super::implicit_upstream;
use super::pass_directives;
use super::util::eff_arg;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx_values::{is_ip_literal, Endpoint};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::{FileKind, TextRange};

/// The rule.
pub struct VariableProxyPassHostNotInResolver;

static META: RuleMeta = RuleMeta {
    id: "variable-proxy-pass-host-not-in-resolver",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "a proxy_pass with a variable resolves its host through the resolver, which cannot know localhost or hosts-file names",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for VariableProxyPassHostNotInResolver {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, t) in pass_directives(m) {
            let d = m.directive(id);
            if !super::complete(m, d.parent) {
                continue;
            }
            let Some(arg) = d.args.first() else { continue };
            if !arg.value.contains('$') {
                continue;
            }
            let (host, port) = match &t.endpoint {
                Endpoint::Host { host, port } => (host.clone(), *port),
                Endpoint::Variable => match literal_host(&arg.value[t.address.clone()]) {
                    Some(hp) => hp,
                    None => continue,
                },
                Endpoint::Unix(_) => continue,
            };
            let (host, port) = (&host, &port);
            if is_ip_literal(host)
                || m.upstream_named(d.parent, host).is_some()
                || implicit_upstream(m, d.parent, host, *port)
            {
                continue;
            }
            // Without any resolver proxy-pass-variable-without-resolver reports it.
            let Some((rid, _)) = eff_arg(m, d.parent, "resolver") else {
                continue;
            };
            let resolver = m.directive(rid);
            let public_only = resolver
                .args
                .iter()
                .filter(|a| !a.value.contains('='))
                .all(|a| is_public_address(&a.value));
            let localhost = host == "localhost";
            if !localhost && (!public_only || host.contains('.')) {
                continue;
            }
            let why = if localhost {
                "`localhost` comes from /etc/hosts, which nginx's resolver does not read"
                    .to_string()
            } else {
                format!("the single-label name `{host}` is not known to the public DNS servers in `resolver`")
            };
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                d.file,
                arg.range,
                format!("`{}` holds a variable, so nginx resolves `{host}` through `resolver` at request time, and {why} (`{host} could not be resolved (3: Host not found)`)", d.name),
            )
            .with_related(resolver.file, resolver.range, "the resolver in effect")
            .with_help("pass to a literal address or to an `upstream` block, which nginx looks up first");
            if localhost && !arg.value.contains('\\') {
                let q = u32::from(arg.quoted);
                if let Some(i) = arg.value.to_ascii_lowercase().find("localhost") {
                    let at = arg.range.start + q + i as u32;
                    diag = diag.with_fix(Fix::new(
                        "use 127.0.0.1",
                        Applicability::Unsafe,
                        vec![Edit::replace(
                            d.file,
                            TextRange::new(at, at + 9),
                            "127.0.0.1",
                        )],
                    ));
                }
            }
            out.push(diag);
        }
    }
}

/// True when a resolver address (`8.8.8.8`, `[2001:4860::8888]:53`) is a public one.
fn is_public_address(a: &str) -> bool {
    let h = a.trim_start_matches('[');
    let h = h.split(']').next().unwrap_or(h);
    let h = if h.matches(':').count() == 1 {
        h.split(':').next().unwrap_or(h)
    } else {
        h
    };
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            !(v4.is_private() || v4.is_loopback() || v4.is_link_local())
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            !(v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00)
        }
        Err(_) => false,
    }
}

/// The literal host of an address whose variables all follow the host and port
/// (`localhost:11000$request_uri`, `app$request_uri`), lowercased, with the port.
pub fn literal_host(address: &str) -> Option<(String, Option<u16>)> {
    let (head, tail) = address.split_at(address.find('$')?);
    let var = super::variables_in(tail).first().copied().unwrap_or("");
    let (host, port) = match head.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && !h.contains(':') => (h, Some(p.parse::<u16>().ok()?)),
        // Without a port the host ends where the variable starts only when the variable
        // is a path.
        None if matches!(var, "request_uri" | "uri" | "document_uri") => (head, None),
        _ => return None,
    };
    (!host.is_empty() && !host.contains('$')).then(|| (host.to_ascii_lowercase(), port))
}
