//! `upstream-no-usable-server`: an `upstream` with no server nginx can use: none at all,
//! only `backup` ones (both refused at load), or every one marked `down` (502 at run time).

use super::util::{server_has_flag, upstream_blocks};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct UpstreamNoUsableServer;

static META: RuleMeta = RuleMeta {
    id: "upstream-no-usable-server",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "an upstream block has no server, only backup servers, or every server marked down",
    fix: None,
    options: &[],
};

/// Directives that fill an upstream by other means: a shared-memory `zone` (servers added
/// through the NGINX Plus API), `state` files, includes, third-party modules.
const DYNAMIC: [&str; 8] = [
    "zone",
    "state",
    "include",
    "server_resolver",
    "dynamic_upstream",
    "balancer_by_lua_block",
    "balancer_by_lua_file",
    "upsync",
];

impl Rule for UpstreamNoUsableServer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (uid, up) in upstream_blocks(m) {
            let servers: Vec<_> = m.here(up, "server").collect();
            let name = m.directive(uid).arg(0).unwrap_or("").to_string();
            let message = if servers.is_empty() {
                if m.items(up)
                    .iter()
                    .any(|d| DYNAMIC.contains(&m.directive(*d).name.as_ref()))
                {
                    continue;
                }
                "nginx refuses this configuration: no servers are inside upstream".to_string()
            } else if servers.iter().all(|s| server_has_flag(m, *s, "backup")) {
                format!("nginx refuses this configuration: no servers in upstream \"{name}\" (every server is `backup`, and backups only stand in for primary servers)")
            } else if servers.iter().all(|s| server_has_flag(m, *s, "down")) {
                format!("every server of upstream `{name}` is marked `down`: each request through it fails with 502 (`no live upstreams while connecting to upstream`)")
            } else {
                continue;
            };
            let d = m.directive(uid);
            let mut diag = Diagnostic::new(META.id, META.severity, d.file, d.name_range(), message)
                .with_help(
                    "give the upstream at least one primary server that is not marked `down`",
                );
            for s in servers.iter().take(3) {
                let s = m.directive(*s);
                diag = diag.with_related(s.file, s.range, "server");
            }
            out.push(diag);
        }
    }
}
