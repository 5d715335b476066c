//! Rules that read nginx alone.

pub mod buffers;
pub mod busy_buffers_size_invalid;
pub mod connection_header_forced_upgrade;
#[cfg(test)]
mod corpus_tests;
pub mod fastcgi_upstream_keepalive_without_keep_conn;
pub mod nginx_rlimit_nofile_too_low;
#[cfg(test)]
mod nginx_t_tests;
pub mod nginx_worker_connections_too_low_for_proxy;
pub mod pass_unix_socket_relative_path;
pub mod proxy_connect_timeout_too_low;
pub mod proxy_pass_invalid_url;
pub mod proxy_pass_unknown_upstream;
pub mod proxy_pass_uri_not_allowed;
pub mod proxy_pass_variable_without_resolver;
pub mod proxy_read_timeout_too_low;
pub mod proxy_scheme_port_mismatch;
pub mod proxy_ssl_name_is_ip;
pub mod proxy_ssl_sni_disabled;
pub mod proxy_ssl_verify_depth_too_low;
pub mod proxy_ssl_verify_without_trusted_cert;
pub mod temp_file_write_size_invalid;
#[cfg(test)]
mod tests;
pub mod timeouts;
pub mod tls;
pub mod upstream_down_placeholder_breaks_single_server;
pub mod upstream_header_buffer_too_small;
pub mod upstream_keepalive_without_http11;
pub mod upstream_localhost_dual_stack;
pub mod upstream_no_usable_server;
pub mod upstream_static_hostname_stale_ip;
pub mod util;
pub mod variable_proxy_pass_host_not_in_resolver;

crate::rule_pack! {
    "proxy-pass-invalid-url" => proxy_pass_invalid_url::ProxyPassInvalidUrl,
    "pass-unix-socket-relative-path" => pass_unix_socket_relative_path::PassUnixSocketRelativePath,
    "proxy-pass-unknown-upstream" => proxy_pass_unknown_upstream::ProxyPassUnknownUpstream,
    "proxy-pass-uri-not-allowed" => proxy_pass_uri_not_allowed::ProxyPassUriNotAllowed,
    "proxy-pass-variable-without-resolver" => proxy_pass_variable_without_resolver::ProxyPassVariableWithoutResolver,
    "variable-proxy-pass-host-not-in-resolver" => variable_proxy_pass_host_not_in_resolver::VariableProxyPassHostNotInResolver,
    "upstream-static-hostname-stale-ip" => upstream_static_hostname_stale_ip::UpstreamStaticHostnameStaleIp,
    "upstream-localhost-dual-stack" => upstream_localhost_dual_stack::UpstreamLocalhostDualStack,
    "upstream-no-usable-server" => upstream_no_usable_server::UpstreamNoUsableServer,
    "upstream-down-placeholder-breaks-single-server" => upstream_down_placeholder_breaks_single_server::UpstreamDownPlaceholderBreaksSingleServer,
    "upstream-keepalive-without-http11" => upstream_keepalive_without_http11::UpstreamKeepaliveWithoutHttp11,
    "fastcgi-upstream-keepalive-without-keep-conn" => fastcgi_upstream_keepalive_without_keep_conn::FastcgiUpstreamKeepaliveWithoutKeepConn,
    "connection-header-forced-upgrade" => connection_header_forced_upgrade::ConnectionHeaderForcedUpgrade,
    "busy-buffers-size-invalid" => busy_buffers_size_invalid::BusyBuffersSizeInvalid,
    "temp-file-write-size-invalid" => temp_file_write_size_invalid::TempFileWriteSizeInvalid,
    "upstream-header-buffer-too-small" => upstream_header_buffer_too_small::UpstreamHeaderBufferTooSmall,
    "proxy-read-timeout-too-low" => proxy_read_timeout_too_low::ProxyReadTimeoutTooLow,
    "proxy-connect-timeout-too-low" => proxy_connect_timeout_too_low::ProxyConnectTimeoutTooLow,
    "proxy-ssl-sni-disabled" => proxy_ssl_sni_disabled::ProxySslSniDisabled,
    "proxy-ssl-name-is-ip" => proxy_ssl_name_is_ip::ProxySslNameIsIp,
    "proxy-ssl-verify-depth-too-low" => proxy_ssl_verify_depth_too_low::ProxySslVerifyDepthTooLow,
    "proxy-ssl-verify-without-trusted-cert" => proxy_ssl_verify_without_trusted_cert::ProxySslVerifyWithoutTrustedCert,
    "proxy-scheme-port-mismatch" => proxy_scheme_port_mismatch::ProxySchemePortMismatch,
    "nginx-worker-connections-too-low-for-proxy" => nginx_worker_connections_too_low_for_proxy::NginxWorkerConnectionsTooLowForProxy,
    "nginx-rlimit-nofile-too-low" => nginx_rlimit_nofile_too_low::NginxRlimitNofileTooLow,
}

use crate::model::nginx::{BlockId, DirectiveId, NginxModel};
use crate::model::nginx_values::{is_ip_literal, PassTarget};

/// True when `block` is in the http module (the stream and mail modules have their own
/// `proxy_pass`, which takes a bare address).
pub fn in_http(model: &NginxModel, block: BlockId) -> bool {
    use crate::model::nginx::BlockKind::*;
    !model.ancestors(block).any(|b| {
        matches!(
            model.block(b).kind,
            Stream | StreamServer | StreamUpstream | Mail | MailServer
        )
    })
}

/// True when `block` belongs to a whole configuration (a root file with its `http` block),
/// not to a fragment read alone: upstreams, resolvers and implicit upstreams may be
/// defined in the files a fragment's root holds, so rules that need them skip fragments.
pub fn complete(model: &NginxModel, block: BlockId) -> bool {
    use crate::model::nginx::BlockKind;
    model.enclosing(block, BlockKind::Http).is_some()
        && model.block(model.main_of(block)).kind == BlockKind::Main
}

/// Every `*_pass` directive of the http module with its parsed target (unparsable ones are left out: the
/// nginx -t checks report those).
pub fn pass_directives(model: &NginxModel) -> impl Iterator<Item = (DirectiveId, &PassTarget)> {
    model.pass_targets().iter().filter_map(move |(id, target)| {
        let target = target.as_ref()?.as_ref().ok()?;
        in_http(model, model.directive(*id).parent).then_some((*id, target))
    })
}

/// Every `*_pass` directive of the http module that has an argument, with what parsing
/// it gave (the rules about bad targets start from the errors).
pub fn pass_parses(
    model: &NginxModel,
) -> impl Iterator<Item = (DirectiveId, &crate::model::nginx::PassParse)> {
    model.pass_targets().iter().filter_map(move |(id, parsed)| {
        let parsed = parsed.as_ref()?;
        in_http(model, model.directive(*id).parent).then_some((*id, parsed))
    })
}

/// The values a variable may take in `block`: the arguments of `set $name …` in the block
/// and its ancestors, and every value of `map … $name { … }` in the configuration.
/// `None` when the variable is set some other way (a built-in such as `$host`, a regex
/// capture, a `geo`), so its values are unknown.
pub fn variable_values(model: &NginxModel, block: BlockId, name: &str) -> Option<Vec<String>> {
    let var = format!("${name}");
    let mut values = Vec::new();
    let mut found = false;
    for b in model.ancestors(block) {
        for d in model.here(b, "set") {
            let d = model.directive(d);
            if d.arg(0) == Some(var.as_str()) {
                found = true;
                values.extend(d.arg(1).map(str::to_string));
            }
        }
    }
    let main = model.main_of(block);
    for d in &model.directives {
        if d.name != "map" || d.arg(1) != Some(var.as_str()) {
            continue;
        }
        let Some(body) = d.block else { continue };
        if model.main_of(d.parent) != main {
            continue;
        }
        found = true;
        for line in model.items(body) {
            let line = model.directive(*line);
            // In a map body the "name" is the key and the first argument the value;
            // `hostnames`, `volatile` and `include` lines carry no value.
            if let Some(v) = line.arg(0) {
                if line.args.len() == 1 {
                    values.push(v.to_string());
                }
            }
        }
    }
    found.then_some(values)
}

/// True when `host` (optionally with `:port`) needs no DNS: an upstream name of the
/// configuration or a literal address.
pub fn host_needs_no_dns(model: &NginxModel, block: BlockId, host: &str) -> bool {
    let h = host.trim_start_matches("unix:");
    if host.starts_with("unix:") {
        return true;
    }
    let bare = if let Some(inner) = h.strip_prefix('[') {
        inner.split(']').next().unwrap_or(inner)
    } else {
        h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h)
    };
    is_ip_literal(bare) || model.upstream_named(block, h).is_some()
}

/// The variable names (without `$`, braces removed) used in `text`.
pub fn variables_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = if braced { i + 2 } else { i + 1 };
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            if end > start {
                out.push(&text[start..end]);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// True when a `*_pass` without variables elsewhere in the configuration names `host:port`:
/// nginx then keeps an implicit upstream of that name, and a pass with variables that names
/// the same host and port uses it instead of the resolver.
pub fn implicit_upstream(
    model: &NginxModel,
    block: BlockId,
    host: &str,
    port: Option<u16>,
) -> bool {
    use crate::model::nginx_values::Endpoint;
    let main = model.main_of(block);
    pass_directives(model).any(|(id, t)| {
        let d = model.directive(id);
        if model.main_of(d.parent) != main || d.arg(0).is_some_and(|a| a.contains('$')) {
            return false;
        }
        matches!(&t.endpoint, Endpoint::Host { host: h, port: p } if h == host && *p == port)
    })
}
