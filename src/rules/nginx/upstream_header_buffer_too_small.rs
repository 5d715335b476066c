//! `upstream-header-buffer-too-small`: the buffer for the upstream's response header is
//! set below a page, or left small on locations that talk to identity providers and other
//! applications known for large headers.

use super::buffers;
use super::pass_directives;
use super::timeouts::prefix;
use super::upstream_keepalive_without_http11::merge_inserts;
use super::util::{eff_size, location_text, option_list, option_size, set_scalar, PAGE_SIZE};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx::{BlockId, NginxModel};
use crate::model::nginx_values::{format_size, Endpoint, PassKind};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use crate::source::{FileKind, Files};
use std::collections::HashSet;

/// The rule.
pub struct UpstreamHeaderBufferTooSmall;

const AUTH_PATTERNS: &[&str] = &[
    "auth",
    "oauth",
    "oauth2",
    "oauth2-proxy",
    "login",
    "sso",
    "oidc",
    "openid",
    "keycloak",
    "saml",
    "authorize",
    "authenticate",
    "callback",
];

static META: RuleMeta = RuleMeta {
    id: "upstream-header-buffer-too-small",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "the buffer for the upstream's response header is too small for the headers it will send",
    fix: Some(Applicability::Unsafe),
    options: &[
        OptionMeta { name: "min_size", default: "4k", doc: "the smallest *_buffer_size accepted anywhere (nginx's default is one memory page, 4k)" },
        OptionMeta { name: "auth_min_size", default: "16k", doc: "the smallest *_buffer_size accepted on locations matching auth_patterns" },
        OptionMeta { name: "auth_patterns", default: "[\"auth\", \"oauth\", \"oauth2\", \"oauth2-proxy\", \"login\", \"sso\", \"oidc\", \"openid\", \"keycloak\", \"saml\", \"authorize\", \"authenticate\", \"callback\"]", doc: "words of a location path or upstream name that mark an identity-provider flow with large headers" },
    ],
};

impl Rule for UpstreamHeaderBufferTooSmall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        let min = option_size(cx, META.id, "min_size", "4k");
        let auth_min = option_size(cx, META.id, "auth_min_size", "16k");
        let patterns = option_list(cx, META.id, "auth_patterns", AUTH_PATTERNS);
        let mut seen = HashSet::new();
        for (id, t) in pass_directives(m) {
            if t.kind == PassKind::Memcached {
                continue;
            }
            let p = prefix(t.kind);
            let name = t.kind.buffer_size_directive();
            let d = m.directive(id);
            let block = d.parent;
            let Some((set, size)) = eff_size(m, block, name, PAGE_SIZE) else {
                continue;
            };
            let words = {
                let mut s = location_text(m, block).to_ascii_lowercase();
                if let Endpoint::Host { host, .. } = &t.endpoint {
                    s.push(' ');
                    s.push_str(host);
                }
                s
            };
            // A script's own name (`authorize.php`, Drupal's update manager) says what the
            // script does, not that an identity provider's flow passes through.
            let auth = words
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                .filter(|w| !w.ends_with(".php"))
                .flat_map(|w| w.split('.'))
                .any(|w| patterns.iter().any(|p| p == w));
            let (want, why) = if size < min {
                (min, format!("below {}", format_size(min)))
            } else if auth && size < auth_min {
                (auth_min, format!("below {} on a location that serves an identity-provider flow (large cookies and redirect URLs)", format_size(auth_min)))
            } else {
                continue;
            };
            let key = set.map(|s| (s.0, 0)).unwrap_or((block.0, 1));
            if !seen.insert(key) {
                continue;
            }
            let (file, range, fix_block) = super::util::value_place(m, set, id, block);
            let mut diag = Diagnostic::new(
                META.id,
                META.severity,
                file,
                range,
                format!("`{name}` is {}{}, {why}: a response header larger than that fails with 502 (`upstream sent too big header while reading response header from upstream`)", format_size(size), if set.is_none() { " (nginx's default)" } else { "" }),
            );
            if set.is_some() && set.map(|s| m.directive(s).parent) != Some(block) {
                diag = diag.with_related(d.file, d.range, "the pass it applies to");
            }
            if let Some(edits) = raise_buffer(m, cx.files, fix_block, p, want) {
                diag = diag.with_fix(Fix::new(
                    format!("set {name} {}", format_size(want)),
                    Applicability::Unsafe,
                    edits,
                ));
            }
            out.push(diag);
        }
    }
}

/// The edits that set `{p}_buffer_size` to `want` in `block` and keep every size relation
/// nginx checks at load (busy buffers, temp file sizes) true.
pub fn raise_buffer(
    m: &NginxModel,
    files: &Files,
    block: BlockId,
    p: &str,
    want: u64,
) -> Option<Vec<Edit>> {
    let mut edits = set_scalar(
        m,
        files,
        block,
        &format!("{p}_buffer_size"),
        &format_size(want),
    )?;
    if buffers::MODULES.contains(&p) {
        let b = buffers::effective(m, block, p)?;
        let [_, bufs_name, busy_name, tw_name, mt_name] = buffers::names(p);
        let (n, s) = (b.bufs.1, b.bufs.2.max(1));
        let size = want.max(s);
        let mut busy = 2 * size;
        if let Some((_, v)) = b.busy {
            busy = v.max(size);
            if v < size {
                edits.extend(set_scalar(m, files, block, busy_name, &format_size(size))?);
            }
        }
        let need = (busy.div_ceil(s) + 1).max(2);
        if need > n {
            let sz = b
                .bufs
                .0
                .and_then(|id| m.directive(id).arg(1).map(str::to_string))
                .unwrap_or_else(|| format_size(s));
            edits.extend(set_scalar(
                m,
                files,
                block,
                bufs_name,
                &format!("{need} {sz}"),
            )?);
        }
        if b.temp_write.is_some_and(|(_, v)| v < size) {
            edits.extend(set_scalar(m, files, block, tw_name, &format_size(size))?);
        }
        if b.max_temp.is_some_and(|(_, v)| v != 0 && v < size) {
            edits.extend(set_scalar(m, files, block, mt_name, &format_size(size))?);
        }
    }
    Some(merge_inserts(edits))
}
