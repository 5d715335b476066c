//! What the cross-file rules share: the pools with their addresses and php.ini, the nginx
//! worker user, and where each `*_pass` of nginx sends requests.

use crate::config::Config;
use crate::model::fpm::{FpmConfig, ListenAddr, Pool, TcpHost};
use crate::model::hash::FastMap;
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_values::{is_loopback, parse_pass, Endpoint, PassKind};
use crate::model::php::{PhpIni, Sapi};
use crate::model::stack::Stack;
use crate::source::{FileId, Files, TextRange};
use std::path::Path;
use std::sync::OnceLock;

/// One pool of the stack with what the rules ask about it.
#[derive(Clone, Copy)]
pub struct PoolRef<'a> {
    /// The index of its configuration in [`Stack::fpm`].
    pub cfg: usize,
    /// Its configuration.
    pub config: &'a FpmConfig,
    /// The pool.
    pub pool: &'a Pool,
}

impl<'a> PoolRef<'a> {
    /// The pool's listen address.
    pub fn listen(&self) -> Option<ListenAddr> {
        self.pool.listen(&self.config.options.prefix)
    }

    /// The file and value range of the pool's `listen` line.
    pub fn listen_span(&self) -> Option<(FileId, TextRange)> {
        self.pool
            .get("listen")
            .map(|d| (d.origin.file, d.origin.value_range))
    }

    /// The file and range of the pool's first `[name]` header (or of `listen`).
    pub fn header_span(&self) -> Option<(FileId, TextRange)> {
        self.pool.headers.first().copied().or_else(|| {
            self.pool
                .get("listen")
                .map(|d| (d.origin.file, d.origin.line_range))
        })
    }
}

/// Every pool of the stack.
pub fn pools(stack: &Stack) -> Vec<PoolRef<'_>> {
    stack
        .fpm
        .iter()
        .enumerate()
        .flat_map(|(cfg, config)| {
            config
                .pools
                .iter()
                .map(move |pool| PoolRef { cfg, config, pool })
        })
        .collect()
}

/// PHP's built-in settings, for a pool whose php.ini the run does not hold.
fn builtin() -> &'static PhpIni {
    static INI: OnceLock<PhpIni> = OnceLock::new();
    INI.get_or_init(|| PhpIni::new(Sapi::Fpm))
}

/// The php.ini settings the master of FPM configuration `cfg` reads: the set loaded beside
/// its php-fpm.conf; else an FPM php.ini found in a folder above the pool file (a lone
/// `…/fpm/pool.d/www.conf` reads `…/fpm/php.ini`); else PHP's built-in defaults.
pub fn php_of<'a>(stack: &'a Stack, files: &Files, cfg: usize) -> &'a PhpIni {
    if let Some(set) = stack.php.iter().find(|s| s.fpm == Some(cfg)) {
        return &set.ini;
    }
    let Some(config) = stack.fpm.get(cfg) else {
        return builtin();
    };
    let root = &files.get(config.root).path;
    let mut best: Option<(usize, &PhpIni)> = None;
    for set in stack.php.iter().filter(|s| s.fpm.is_none()) {
        if set.ini.sapi == Some(Sapi::Cli) {
            continue;
        }
        let Some(first) = set.files.first() else {
            continue;
        };
        let ini_path = &files.get(*first).path;
        let is_main = ini_path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("php.ini"));
        let Some(dir) = ini_path.parent() else {
            continue;
        };
        // Debian: …/fpm/php.ini above …/fpm/pool.d/; Docker: /usr/local/etc/php/php.ini
        // beside /usr/local/etc/php-fpm.d/.
        let beside = dir.file_name().is_some_and(|n| n == "php")
            && dir.parent().is_some_and(|p| root.starts_with(p));
        if is_main && (root.starts_with(dir) || beside) {
            let depth = dir.components().count();
            if best.map_or(true, |(d, _)| depth > d) {
                best = Some((depth, &set.ini));
            }
        }
    }
    match best {
        Some((_, ini)) => ini,
        None => builtin(),
    }
}

/// The nginx worker user and group, and where they come from.
#[derive(Clone, Debug)]
pub struct NginxUser {
    /// The user.
    pub user: String,
    /// The group (nginx's default: the group named like the user).
    pub group: String,
    /// The `user` directive's argument, when nginx's configuration names it.
    pub span: Option<(FileId, TextRange)>,
    /// How the user was found, for messages.
    pub how: &'static str,
    /// True when nothing in the run names the user (the rules then accept any of the
    /// users distributions package nginx with, to avoid guessing wrong).
    pub assumed: bool,
}

/// The users nginx packages run as: Debian, nginx.org/RHEL, Apache-shared RHEL pools,
/// Arch, source builds.
pub const PACKAGED_USERS: &[&str] = &["www-data", "nginx", "apache", "http", "nobody"];

impl NginxUser {
    /// True when `name` may be nginx's user.
    pub fn user_may_be(&self, name: &str) -> bool {
        name == self.user || (self.assumed && PACKAGED_USERS.contains(&name))
    }

    /// True when `name` may be nginx's group.
    pub fn group_may_be(&self, name: &str) -> bool {
        name == self.group || (self.assumed && PACKAGED_USERS.contains(&name))
    }
}

/// The user nginx's workers run as: `user` in the main context, else `[host] nginx_user`,
/// else Debian's packaged `www-data`.
pub fn nginx_user(model: &NginxModel, config: &Config) -> NginxUser {
    for root in &model.roots {
        if model.block(*root).kind != BlockKind::Main {
            continue;
        }
        if let Some(d) = model.here(*root, "user").last() {
            let d = model.directive(d);
            if let Some(u) = d.args.first() {
                let group = d.arg(1).unwrap_or(&u.value).to_string();
                return NginxUser {
                    user: u.value.as_str().to_owned(),
                    group,
                    span: Some((d.file, u.range)),
                    how: "nginx's `user` directive",
                    assumed: false,
                };
            }
        }
    }
    if let Some(u) = &config.host.nginx_user {
        return NginxUser {
            user: u.clone(),
            group: u.clone(),
            span: None,
            how: "[host] nginx_user",
            assumed: false,
        };
    }
    NginxUser {
        user: "www-data".into(),
        group: "www-data".into(),
        span: None,
        how: "assumed: Debian's packaged nginx runs as www-data when nginx's `user` is not in the run",
        assumed: true,
    }
}

/// One address a `*_pass` of nginx sends requests to.
#[derive(Clone, Debug)]
pub struct PassSite {
    /// The pass directive.
    pub directive: DirectiveId,
    /// Which pass.
    pub kind: PassKind,
    /// The block holding the pass (a location, usually).
    pub block: BlockId,
    /// The address.
    pub endpoint: Endpoint,
    /// The text naming it (`unix:/run/x.sock`, `127.0.0.1:9000`, or an upstream `server`).
    pub text: compact_str::CompactString,
    /// The file of that text.
    pub file: FileId,
    /// The range of that text (the whole argument).
    pub range: TextRange,
    /// The upstream block the address came from, if any.
    pub upstream: Option<BlockId>,
}

/// Every address every `*_pass` of nginx sends to, upstream blocks resolved.
pub fn pass_sites(model: &NginxModel) -> Vec<PassSite> {
    let mut out = Vec::new();
    // The servers of each upstream, parsed once however many passes name it.
    let mut upstreams: FastMap<BlockId, Vec<(DirectiveId, Endpoint)>> = FastMap::default();
    for (id, target) in model.pass_targets() {
        let (id, Some(Ok(target))) = (*id, target) else {
            continue;
        };
        let d = model.directive(id);
        let kind = target.kind;
        let Some(arg) = d.args.first() else { continue };
        match &target.endpoint {
            Endpoint::Host { host, port: None } => {
                if let Some(up) = model.upstream_named(d.parent, host) {
                    let servers = upstreams
                        .entry(up)
                        .or_insert_with(|| upstream_servers(model, up));
                    for (sid, endpoint) in servers.iter() {
                        let s = model.directive(*sid);
                        let Some(a) = s.args.first() else { continue };
                        out.push(PassSite {
                            directive: id,
                            kind,
                            block: d.parent,
                            endpoint: endpoint.clone(),
                            text: a.value.clone(),
                            file: s.file,
                            range: a.range,
                            upstream: Some(up),
                        });
                    }
                    continue;
                }
                let default_port = match target.scheme {
                    Some("https://") => 443,
                    _ => 80,
                };
                out.push(site(
                    id,
                    kind,
                    d,
                    arg,
                    Endpoint::Host {
                        host: host.clone(),
                        port: Some(default_port),
                    },
                ));
            }
            e => out.push(site(id, kind, d, arg, e.clone())),
        }
    }
    out
}

/// The `server` lines of upstream block `up` that parse, with their addresses (port 80
/// when none is written).
fn upstream_servers(model: &NginxModel, up: BlockId) -> Vec<(DirectiveId, Endpoint)> {
    model
        .here(up, "server")
        .filter_map(|sid| {
            let a = model.directive(sid).args.first()?;
            let t = parse_pass(PassKind::Fastcgi, &a.value).ok()?;
            let endpoint = match t.endpoint {
                Endpoint::Host { host, port: None } => Endpoint::Host {
                    host,
                    port: Some(80),
                },
                e => e,
            };
            Some((sid, endpoint))
        })
        .collect()
}

fn site(
    id: DirectiveId,
    kind: PassKind,
    d: &crate::model::nginx::Directive,
    arg: &crate::model::nginx::Arg,
    endpoint: Endpoint,
) -> PassSite {
    PassSite {
        directive: id,
        kind,
        block: d.parent,
        endpoint,
        text: arg.value.clone(),
        file: d.file,
        range: arg.range,
        upstream: None,
    }
}

/// True when a pass serves PHP: its location's pattern or its address mentions php or fpm
/// (other FastCGI servers such as fcgiwrap are left alone), or it sits outside locations.
pub fn serves_php(model: &NginxModel, site: &PassSite) -> bool {
    let lower = site.text.to_ascii_lowercase();
    if lower.contains("php") || lower.contains("fpm") {
        return true;
    }
    let mut locations = model
        .ancestors(site.block)
        .filter(|b| model.block(*b).kind == BlockKind::Location)
        .filter_map(|b| model.block(b).directive)
        .peekable();
    if locations.peek().is_none() {
        return true;
    }
    locations.any(|l| {
        model
            .directive(l)
            .args
            .iter()
            .any(|a| a.value.to_ascii_lowercase().contains("php"))
    })
}

/// The bytes of an argument's value (inside quotes), when it has no escapes.
pub fn value_range(model: &NginxModel, site: &PassSite) -> Option<TextRange> {
    let d = model.directive(site.directive);
    let arg = if site.upstream.is_some() {
        None
    } else {
        d.args.first()
    };
    match arg {
        Some(a) if a.value.contains('\\') => None,
        Some(a) => {
            let start = a.range.start + u32::from(a.quoted);
            Some(TextRange::new(start, start + a.value.len() as u32))
        }
        None if site.text.contains('\\') => None,
        None => {
            let q = u32::from(site.range.len() as usize > site.text.len());
            let start = site.range.start + q;
            Some(TextRange::new(start, start + site.text.len() as u32))
        }
    }
}

/// True when the pool accepts a connection nginx makes to `endpoint` on this machine.
pub fn pool_serves(listen: &ListenAddr, endpoint: &Endpoint) -> bool {
    match (listen, endpoint) {
        (ListenAddr::Unix { normalized, .. }, Endpoint::Unix(path)) => {
            crate::model::fpm::normalize_unix_path(path) == *normalized
        }
        (
            ListenAddr::Tcp { host, port, .. },
            Endpoint::Host {
                host: h,
                port: Some(p),
            },
        ) => {
            if *port != i64::from(*p) || !is_loopback(h) {
                return false;
            }
            let v6 = h.contains(':');
            match host {
                TcpHost::AllDual => true,
                TcpHost::AllV4 => !v6,
                TcpHost::AllV6 => true,
                TcpHost::Ip(ip) => is_loopback(ip) && (h == "localhost" || ip.contains(':') == v6),
                TcpHost::Name(n) => n == "localhost",
            }
        }
        _ => false,
    }
}

/// The TCP port of a listen address.
pub fn tcp_port(listen: &ListenAddr) -> Option<i64> {
    match listen {
        ListenAddr::Tcp { port, .. } => Some(*port),
        ListenAddr::Unix { .. } => None,
    }
}

/// True when a TCP listen address accepts only loopback connections.
pub fn listens_on_loopback_only(listen: &ListenAddr) -> bool {
    match listen {
        ListenAddr::Tcp {
            host: TcpHost::Ip(ip) | TcpHost::Name(ip),
            ..
        } => is_loopback(ip),
        _ => false,
    }
}

/// The pools reached by a pass site.
pub fn pools_reached<'a>(pools: &[PoolRef<'a>], site: &PassSite) -> Vec<PoolRef<'a>> {
    pools
        .iter()
        .filter(|p| p.listen().is_some_and(|l| pool_serves(&l, &site.endpoint)))
        .copied()
        .collect()
}

/// The FastCGI sites of nginx that reach a pool, with the pool.
pub fn fastcgi_to_pools<'a>(
    sites: &[PassSite],
    pools: &[PoolRef<'a>],
) -> Vec<(PassSite, PoolRef<'a>)> {
    let mut out = Vec::new();
    for s in sites.iter().filter(|s| s.kind == PassKind::Fastcgi) {
        for p in pools_reached(pools, s) {
            out.push((s.clone(), p));
        }
    }
    out
}

/// The offset just after the line holding `offset` (after its newline).
pub fn line_end(files: &Files, file: FileId, offset: u32) -> u32 {
    let text = &files.get(file).text;
    let start = (offset as usize).min(text.len());
    match text[start..].iter().position(|b| *b == b'\n') {
        Some(i) => (start + i + 1) as u32,
        None => text.len() as u32,
    }
}

/// The offset of the start of the line holding `offset`.
pub fn line_start(files: &Files, file: FileId, offset: u32) -> u32 {
    let text = &files.get(file).text;
    let end = (offset as usize).min(text.len());
    match text[..end].iter().rposition(|b| *b == b'\n') {
        Some(i) => (i + 1) as u32,
        None => 0,
    }
}

/// The newline style of a file (`\r\n` when its first line ends so).
pub fn newline_of(files: &Files, file: FileId) -> &'static str {
    let text = &files.get(file).text;
    match text.iter().position(|b| *b == b'\n') {
        Some(i) if i > 0 && text[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// True when the file ends without a newline (an inserted line must then start with one).
pub fn ends_without_newline(files: &Files, file: FileId) -> bool {
    files.get(file).text.last().is_some_and(|b| *b != b'\n')
}

/// True when a path looks like the official Docker image's layout (`/usr/local/etc/php…`).
pub fn is_docker_layout(path: &Path) -> bool {
    path.to_string_lossy().contains("usr/local/etc/php")
}

/// Format seconds the way FPM and nginx both read them.
pub fn secs(n: i64) -> String {
    format!("{n}s")
}

/// An integer option of a rule (`[rules.<id>] key = N`), else its default.
pub fn opt_int(config: &Config, rule: &str, key: &str, default: i64) -> i64 {
    match config.rule_option(rule, key) {
        Some(toml::Value::Integer(n)) => *n,
        Some(toml::Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// A size option of a rule (`"32M"` or a number of bytes), else its default.
pub fn opt_size(config: &Config, rule: &str, key: &str, default: u64) -> u64 {
    match config.rule_option(rule, key) {
        Some(toml::Value::Integer(n)) => u64::try_from(*n).unwrap_or(default),
        Some(toml::Value::String(s)) => crate::config::parse_size(s).unwrap_or(default),
        _ => default,
    }
}

/// Declare a rule's static metadata.
#[macro_export]
macro_rules! rule_meta {
    ($name:ident, $id:literal, $sev:ident, [$($k:ident),*], $summary:literal, $fix:expr) => {
        $crate::rule_meta!($name, $id, $sev, [$($k),*], $summary, $fix, &[]);
    };
    ($name:ident, $id:literal, $sev:ident, [$($k:ident),*], $summary:literal, $fix:expr, $opts:expr) => {
        static $name: $crate::rules::RuleMeta = $crate::rules::RuleMeta {
            id: $id,
            severity: $crate::diagnostic::Severity::$sev,
            kinds: &[$($crate::source::FileKind::$k),*],
            summary: $summary,
            fix: $fix,
            options: $opts,
        };
    };
}
