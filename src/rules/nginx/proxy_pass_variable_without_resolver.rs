//! `proxy-pass-variable-without-resolver`: a `*_pass` that nginx resolves per request
//! (it holds a variable) while no `resolver` is in scope.

use super::{host_needs_no_dns, pass_directives, variable_values, variables_in};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx_values::{Endpoint, PassKind};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct ProxyPassVariableWithoutResolver;

static META: RuleMeta = RuleMeta {
    id: "proxy-pass-variable-without-resolver",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "proxy_pass names its host through a variable but no resolver is in scope",
    fix: None,
    options: &[],
};

impl Rule for ProxyPassVariableWithoutResolver {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        for (id, target) in pass_directives(model) {
            if target.kind == PassKind::Memcached {
                continue;
            }
            let d = model.directive(id);
            let Some(arg) = d.args.first() else { continue };
            if !arg.value.contains('$') {
                continue;
            }
            let block = d.parent;
            if !super::complete(model, block) {
                continue;
            }
            if model.effective(block, "resolver").is_some() {
                continue;
            }
            let address = &arg.value[target.address.clone()];
            // The host names nginx would have to resolve at request time.
            let unresolvable: Option<String> = match &target.endpoint {
                Endpoint::Unix(_) => None,
                Endpoint::Host { .. } => {
                    (!host_needs_no_dns(model, block, address)).then(|| address.to_string())
                }
                Endpoint::Variable => {
                    let vars = variables_in(address);
                    // A literal upstream name or address before the first variable
                    // (`http://backend$route`, `127.0.0.1:8080$request_uri`) is the host,
                    // when the variables continue with the path.
                    let head = &address[..address.find('$').unwrap_or(0)];
                    if !head.is_empty() && host_needs_no_dns(model, block, head) {
                        continue;
                    }
                    // A value computed by code (njs, Lua, Perl, an auth subrequest) is
                    // unknown: it may well be an address.
                    if vars.iter().any(|v| set_by_code(model, v)) {
                        continue;
                    }
                    if let Some((host, _)) =
                        super::variable_proxy_pass_host_not_in_resolver::literal_host(address)
                    {
                        if !host_needs_no_dns(model, block, &host) {
                            Some(host)
                        } else {
                            None
                        }
                    } else {
                        // A host built only from variables whose every value needs no DNS is fine.
                        let mut bad = None;
                        for v in &vars {
                            match variable_values(model, block, v) {
                                Some(values) => {
                                    if let Some(h) = values
                                        .iter()
                                        .find(|h| !host_needs_no_dns(model, block, &strip_url(h)))
                                    {
                                        bad = Some(strip_url(h));
                                        break;
                                    }
                                }
                                None => {
                                    bad = Some(format!("${v}"));
                                    break;
                                }
                            }
                        }
                        if vars.len() == 1 && address.trim_start_matches('$') == vars[0] {
                            bad
                        } else {
                            // Variables mixed with text (`$name.example.com`) always make a name.
                            bad.or_else(|| Some(address.to_string()))
                        }
                    }
                }
            };
            let Some(host) = unresolvable else { continue };
            out.push(
                Diagnostic::new(
                    META.id,
                    META.severity,
                    d.file,
                    arg.range,
                    format!(
                        "`{}` is resolved per request because it holds a variable, but no `resolver` is in scope to resolve {}",
                        d.name,
                        if host.starts_with('$') {
                            format!("the host in {host}")
                        } else {
                            format!("`{host}`")
                        }
                    ),
                )
                .with_help(
                    "add `resolver ADDRESS valid=30s;` to the server or http block (in Docker the DNS server is 127.0.0.11), or pass to an `upstream` block",
                ),
            );
        }
    }
}

/// A map value may be a whole URL (`proxy_pass $target;`): keep its host part.
fn strip_url(value: &str) -> String {
    let rest = value.split_once("://").map(|(_, r)| r).unwrap_or(value);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// Directives that set a variable from code or a subrequest, whose values gatelint cannot see.
const CODE_SETTERS: [&str; 7] = [
    "js_set",
    "auth_request_set",
    "perl_set",
    "set_by_lua",
    "set_by_lua_block",
    "set_by_lua_file",
    "njs_set",
];

/// True when variable `name` (without `$`) is set by code somewhere in the configuration.
fn set_by_code(model: &crate::model::nginx::NginxModel, name: &str) -> bool {
    let var = format!("${name}");
    model
        .directives
        .iter()
        .any(|d| CODE_SETTERS.contains(&d.name.as_ref()) && d.arg(0) == Some(var.as_str()))
}
