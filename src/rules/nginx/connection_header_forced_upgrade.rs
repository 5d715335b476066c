//! `connection-header-forced-upgrade`: `proxy_set_header Connection "upgrade"` written as
//! a literal, so every ordinary request asks the backend to switch protocols.

use super::pass_directives;
use super::util::{insert_line, location_text};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx::{BlockId, NginxModel};
use crate::model::nginx_values::PassKind;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;
use std::collections::HashSet;

/// The rule.
pub struct ConnectionHeaderForcedUpgrade;

static META: RuleMeta = RuleMeta {
    id: "connection-header-forced-upgrade",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "proxy_set_header Connection \"upgrade\" is sent on every request, not only on WebSocket upgrades",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

/// Words in a location that say it serves WebSockets only.
const WEBSOCKET_WORDS: [&str; 8] = [
    "ws",
    "socket",
    "websocket",
    "wss",
    "cable",
    "signalr",
    "hmr",
    "hub",
];

/// The variable a `map $http_upgrade $X { … }` of the configuration defines, if any.
fn upgrade_map(m: &NginxModel, block: BlockId) -> Option<String> {
    let main = m.main_of(block);
    m.all_named("map").find_map(|id| {
        let d = m.directive(id);
        (m.main_of(d.parent) == main && d.arg(0) == Some("$http_upgrade"))
            .then(|| d.arg(1).map(str::to_string))
            .flatten()
    })
}

impl Rule for ConnectionHeaderForcedUpgrade {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let mut seen = HashSet::new();
        let mut map_offered = HashSet::new();
        for (id, t) in pass_directives(m) {
            if t.kind != PassKind::Proxy {
                continue;
            }
            let block = m.directive(id).parent;
            // A location that names WebSockets serves only upgrades.
            let loc = location_text(m, block).to_ascii_lowercase();
            if loc
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| WEBSOCKET_WORDS.contains(&w))
            {
                continue;
            }
            for h in m.effective_all(block, "proxy_set_header") {
                let d = m.directive(h);
                if !d
                    .arg(0)
                    .is_some_and(|n| n.eq_ignore_ascii_case("connection"))
                    || !d.arg(1).is_some_and(|v| v.eq_ignore_ascii_case("upgrade"))
                {
                    continue;
                }
                if !seen.insert(h) {
                    continue;
                }
                let Some(arg) = d.args.get(1) else { continue };
                let mut diag = Diagnostic::new(
                    META.id,
                    META.severity,
                    d.file,
                    arg.range,
                    "`Connection: upgrade` is sent with every request through this location, not only with WebSocket handshakes; backends close or mishandle such connections (`upstream prematurely closed connection while reading response header from upstream`)",
                )
                .with_help("map $http_upgrade to the header: `map $http_upgrade $connection_upgrade { default upgrade; '' close; }` in http, then `proxy_set_header Connection $connection_upgrade;`");
                if let Some(var) = upgrade_map(m, block) {
                    diag = diag.with_fix(Fix::new(
                        format!("send {var}"),
                        Applicability::Unsafe,
                        vec![Edit::replace(d.file, arg.range, var)],
                    ));
                } else if let Some(http) = m.http_of(block).filter(|h| {
                    // One finding per http block brings the map; the others get their fix
                    // in the next round, once the map exists.
                    super::complete(m, block)
                        && !defines(m, "$connection_upgrade")
                        && map_offered.insert(*h)
                }) {
                    let indent = m.child_indent(http);
                    let nl = m.newline(m.block(http).file);
                    let map = format!(
                        "map $http_upgrade $connection_upgrade {{{nl}{indent}    default upgrade;{nl}{indent}    ''      close;{nl}{indent}}}"
                    );
                    if let Some(insert) = insert_line(m, cx.files, http, &map) {
                        diag = diag.with_fix(Fix::new(
                            "send $connection_upgrade from a map of $http_upgrade",
                            Applicability::Unsafe,
                            vec![
                                insert,
                                Edit::replace(d.file, arg.range, "$connection_upgrade"),
                            ],
                        ));
                    }
                }
                out.push(diag);
            }
        }
    }
}

/// True when some `map` or `set` of the configuration defines `var`.
fn defines(m: &NginxModel, var: &str) -> bool {
    m.directives.iter().any(|d| {
        (d.name == "map" && d.arg(1) == Some(var)) || (d.name == "set" && d.arg(0) == Some(var))
    })
}
