//! What the TLS rules share: the passes that open TLS to the upstream, with the prefix of
//! their `*_ssl_*` directives.

use super::pass_directives;
use crate::model::nginx::{DirectiveId, NginxModel};
use crate::model::nginx_values::{PassKind, PassTarget};

/// Every `proxy_pass https://…` and `grpc_pass grpcs://…` (and, with `variables`, every pass
/// of those two whose URL holds a variable, for which nginx prepares TLS as well), with the
/// module prefix (`proxy`, `grpc`).
pub fn tls_passes(
    m: &NginxModel,
    variables: bool,
) -> Vec<(DirectiveId, &PassTarget, &'static str)> {
    pass_directives(m)
        .filter_map(|(id, t)| {
            let prefix = match t.kind {
                PassKind::Proxy => "proxy",
                PassKind::Grpc => "grpc",
                _ => return None,
            };
            let scheme = t.scheme.unwrap_or("").to_ascii_lowercase();
            let tls = scheme == "https://" || scheme == "grpcs://";
            let var = variables && m.directive(id).arg(0).is_some_and(|a| a.contains('$'));
            (tls || var).then_some((id, t, prefix))
        })
        .collect()
}
