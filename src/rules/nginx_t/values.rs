//! What nginx's generic setters (`ngx_conf_set_*_slot` in src/core/ngx_conf_file.c) and a
//! few handlers refuse: a second occurrence in one block, and values that do not parse.

use super::handlers::handler_value_error;
use super::walk::{walk, Visit};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::NginxModel;
use crate::model::nginx_directives::{check_value, DirectiveSpec, ValueKind, Verdict, DIRECTIVES};
use crate::model::nginx_values::{parse_size, parse_time_ms};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;
use std::collections::HashMap;

/// Directives whose own handlers (not the generic slots) answer "is duplicate" for a
/// second occurrence in one block (checked with nginx 1.22.1 `nginx -t`).
const HANDLER_DUPLICATES: &[&str] = &[
    "root",
    "alias",
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "scgi_pass",
    "grpc_pass",
    "memcached_pass",
    "keepalive_timeout",
    "try_files",
    "resolver",
    "expires",
    "proxy_cache",
    "fastcgi_cache",
    "uwsgi_cache",
    "scgi_cache",
    "proxy_store",
    "fastcgi_store",
    "uwsgi_store",
    "scgi_store",
    "auth_basic",
    "internal",
    "open_file_cache",
    "proxy_cache_key",
    "fastcgi_cache_key",
    "uwsgi_cache_key",
    "scgi_cache_key",
    "limit_rate",
    "worker_connections",
    "worker_processes",
];

/// Lists of rewrites where `off` excludes any other line in the same block: nginx answers
/// "is duplicate" only when one of the lines is `off`.
const OFF_EXCLUSIVE: &[&str] = &["proxy_redirect", "proxy_cookie_domain", "proxy_cookie_path"];

/// The directives of interest: read by nginx, accepted by the handler's first checks.
fn accepted<'c>(cx: &'c Checker<'_>) -> impl Iterator<Item = (Visit, &'static DirectiveSpec)> + 'c {
    // Filtered as it is read: a kept copy of most of the walk would cost more memory
    // than the filter costs time.
    walk(cx)
        .iter()
        .copied()
        .filter(|v| !v.missing_module && v.in_version)
        .filter_map(|v| match v.verdict() {
            Verdict::Ok(spec) => Some((v, spec)),
            _ => None,
        })
}

/// Whether nginx refuses a second `name` in one block.
pub fn is_unique(spec: &DirectiveSpec) -> bool {
    spec.unique || HANDLER_DUPLICATES.contains(&spec.name)
}

/// How the duplicate check treats a spec: 0 = not at all, 1 = once per block,
/// 2 = `off` excludes the other lines.
fn duplicate_kind(spec: &DirectiveSpec) -> u8 {
    // Computed once for the whole table: the check asks for every directive of a run.
    static KINDS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let kinds = KINDS.get_or_init(|| {
        DIRECTIVES
            .iter()
            .map(|s| {
                if OFF_EXCLUSIVE.contains(&s.name) {
                    2
                } else {
                    u8::from(is_unique(s))
                }
            })
            .collect()
    });
    let offset = (spec as *const DirectiveSpec as usize).wrapping_sub(DIRECTIVES.as_ptr() as usize)
        / std::mem::size_of::<DirectiveSpec>();
    match kinds.get(offset) {
        // A spec from the table: its precomputed kind.
        Some(k) if std::ptr::eq(&DIRECTIVES[offset], spec) => *k,
        _ if OFF_EXCLUSIVE.contains(&spec.name) => 2,
        _ => u8::from(is_unique(spec)),
    }
}

// ------------------------------------------------------------------ duplicate

/// `nginx-directive-duplicate`: a directive nginx takes once per block, written twice.
pub struct DirectiveDuplicate;

static DUPLICATE: RuleMeta = RuleMeta {
    id: "nginx-directive-duplicate",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a directive that nginx allows once per block is repeated in the same block",
    fix: None,
    options: &[],
};

impl Rule for DirectiveDuplicate {
    fn meta(&self) -> &'static RuleMeta {
        &DUPLICATE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        // The first occurrence per (block, name); root and alias share one slot. One map
        // for the run rather than a list per block (most blocks hold none of these).
        let mut first: crate::model::hash::FastMap<(u32, usize), crate::model::nginx::DirectiveId> =
            crate::model::hash::FastMap::default();
        let root_slot = crate::model::nginx_directives::lookup("root").as_ptr() as usize;
        let mut formats: HashMap<(u32, &str), crate::model::nginx::DirectiveId> = HashMap::new();
        for (v, spec) in accepted(cx) {
            // Most directives may be repeated: those are skipped without reading them.
            let is_log_format = spec.name == "log_format";
            let kind = duplicate_kind(spec);
            if kind == 0 && !is_log_format {
                continue;
            }
            let d = model.directive(v.id);
            if is_log_format {
                // Names are per http block (the main conf of the log module).
                let http = model
                    .ancestors(d.parent)
                    .find(|b| model.block(*b).kind == crate::model::nginx::BlockKind::Http)
                    .unwrap_or(d.parent);
                let Some(name) = d.args.first() else { continue };
                if let Some(prev) = formats.get(&(http.0, name.value.as_str())) {
                    let p = model.directive(*prev);
                    out.push(
                        Diagnostic::new(
                            DUPLICATE.id,
                            DUPLICATE.severity,
                            d.file,
                            name.range,
                            format!("duplicate \"log_format\" name \"{}\"", name.value),
                        )
                        .with_related(
                            p.file,
                            p.name_range(),
                            "first defined here",
                        ),
                    );
                } else {
                    formats.insert((http.0, name.value.as_str()), v.id);
                }
                continue;
            }
            if kind == 2 {
                let is_off = |d: &crate::model::nginx::Directive| {
                    d.args.len() == 1 && d.arg(0) == Some("off")
                };
                let earlier = model
                    .here(d.parent, &d.name)
                    .take_while(|x| *x != v.id)
                    .map(|x| model.directive(x))
                    .collect::<Vec<_>>();
                if !earlier.is_empty() && (is_off(d) || earlier.iter().any(|e| is_off(e))) {
                    let p = earlier[0];
                    out.push(
                        Diagnostic::new(
                            DUPLICATE.id,
                            DUPLICATE.severity,
                            d.file,
                            d.name_range(),
                            format!("\"{}\" directive is duplicate", d.name),
                        )
                        .with_related(p.file, p.name_range(), "first set here")
                        .with_help("`off` cannot be combined with other lines of this directive in one block"),
                    );
                }
                continue;
            }
            if kind == 0 {
                continue;
            }
            let d = model.directive(v.id);
            // A name's table entries are one slice: its address stands for the name.
            let slot = if d.name == "alias" {
                root_slot
            } else {
                v.specs().as_ptr() as usize
            };
            let prev = match first.entry((d.parent.0, slot)) {
                std::collections::hash_map::Entry::Occupied(e) => *e.get(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(v.id);
                    continue;
                }
            };
            let p = model.directive(prev);
            let message = if p.name != d.name {
                format!(
                    "\"{}\" directive is duplicate, \"{}\" directive was specified earlier",
                    d.name, p.name
                )
            } else {
                format!("\"{}\" directive is duplicate", d.name)
            };
            out.push(
                Diagnostic::new(
                    DUPLICATE.id,
                    DUPLICATE.severity,
                    d.file,
                    d.name_range(),
                    message,
                )
                .with_related(p.file, p.name_range(), "first set here")
                .with_help("keep one of them; nginx refuses to load a block that sets it twice"),
            );
        }
    }
}

// ------------------------------------------------------------------ values

/// `nginx-invalid-value`: a flag, enum, time, size or number value nginx cannot parse.
pub struct InvalidValue;

static VALUE: RuleMeta = RuleMeta {
    id: "nginx-invalid-value",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a directive's value is not one nginx accepts (on/off, a listed word, a time, a size, a number)",
    fix: None,
    options: &[],
};

/// Whether `s` is an nginx size for `ngx_parse_size` / `ngx_parse_offset` (which also
/// takes `g`).
fn is_size(s: &str) -> bool {
    if parse_size(s).is_some() {
        return true;
    }
    match s.strip_suffix(['g', 'G']) {
        Some(n) => !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// nginx's message for a value the spec refuses, with the index of the argument.
pub fn value_error(spec: &DirectiveSpec, args: &[&str]) -> Option<(usize, String)> {
    value_error_in(spec, args, None)
}

/// Whether version `v` is older than `than` ("1.22.1" < "1.27.0").
fn older(v: &str, than: &str) -> bool {
    let p = |x: &str| -> Vec<u32> { x.split('.').map(|n| n.parse().unwrap_or(0)).collect() };
    p(v) < p(than)
}

/// [`value_error`] for a target nginx version: `proxy_limit_rate` and its siblings took a
/// plain size before 1.27.0, which added variables to them.
pub fn value_error_in(
    spec: &DirectiveSpec,
    args: &[&str],
    version: Option<&str>,
) -> Option<(usize, String)> {
    let name = spec.name;
    if name.ends_with("_limit_rate")
        && name != "limit_rate"
        && version.is_some_and(|v| older(v, "1.27.0"))
    {
        let first = *args.first()?;
        return (!is_size(first)).then(|| (0, format!("\"{name}\" directive invalid value")));
    }
    if let Err(e) = check_value(spec, args) {
        return Some((e.arg, e.message));
    }
    let name = spec.name;
    let first = *args.first()?;
    match spec.value {
        ValueKind::Time if parse_time_ms(first).is_none() => {
            Some((0, format!("\"{name}\" directive invalid value")))
        }
        ValueKind::Size if !is_size(first) => {
            Some((0, format!("\"{name}\" directive invalid value")))
        }
        ValueKind::Number if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) => {
            Some((0, format!("\"{name}\" directive invalid number")))
        }
        ValueKind::Bufs => {
            let num_ok = !first.is_empty()
                && first.bytes().all(|b| b.is_ascii_digit())
                && first.bytes().any(|b| b != b'0');
            if !num_ok {
                return Some((0, format!("\"{name}\" directive invalid value")));
            }
            let size = args.get(1)?;
            if parse_size(size).map_or(true, |n| n == 0) {
                return Some((1, format!("\"{name}\" directive invalid value")));
            }
            None
        }
        _ => None,
    }
}

impl Rule for InvalidValue {
    fn meta(&self) -> &'static RuleMeta {
        &VALUE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model: &NginxModel = &cx.stack.nginx;
        // One list for every directive's arguments: most directives are checked here.
        let mut args: Vec<&str> = Vec::new();
        for (v, spec) in accepted(cx) {
            // Most directives take anything their handler parses: only the generic value
            // kinds (and the `*_limit_rate` version rule) need the arguments as a list.
            let generic = spec.value != ValueKind::Any || spec.name.ends_with("_limit_rate");
            let handled = v.is_named(&super::handlers::HANDLER_CHECKED);
            if !generic && !handled {
                continue;
            }
            let d = model.directive(v.id);
            let found = generic
                .then(|| {
                    args.clear();
                    args.extend(d.args.iter().map(|a| a.value.as_str()));
                    value_error_in(spec, &args, cx.config.nginx_version.as_deref())
                })
                .flatten()
                .or_else(|| handled.then(|| handler_value_error(d, v.ctx)).flatten());
            let Some((i, message)) = found else {
                continue;
            };
            let range = d.args.get(i).map_or(d.name_range(), |a| a.range);
            let help = match spec.value {
                ValueKind::Flag => "write `on` or `off`".to_string(),
                ValueKind::Enum(w) => format!("`{}` takes one of: {}", d.name, w.join(", ")),
                ValueKind::Bitmask(w) => format!("`{}` takes some of: {}", d.name, w.join(", ")),
                ValueKind::Time => {
                    "a time is a number with a unit: ms, s, m, h, d, w, M, y (`30s`, `1m30s`)"
                        .to_string()
                }
                ValueKind::Size | ValueKind::Bufs => {
                    "a size is a number with an optional k or m suffix (`16k`, `1m`)".to_string()
                }
                ValueKind::Number => "write a whole number".to_string(),
                _ => format!("see the `{}` directive in nginx's documentation", d.name),
            };
            out.push(
                Diagnostic::new(VALUE.id, VALUE.severity, d.file, range, message).with_help(help),
            );
        }
    }
}

// ------------------------------------------------------------------ map

/// `nginx-map-invalid`: a `map` block nginx refuses.
pub struct MapInvalid;

static MAP: RuleMeta = RuleMeta {
    id: "nginx-map-invalid",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a map block has a line without exactly a key and a value, a second default, a repeated key or a bad variable",
    fix: None,
    options: &[],
};

impl Rule for MapInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &MAP
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let maps = super::walk::accepted_named(cx, &super::walk::NameKeys::of(["map"]));
        for v in maps.filter(|v| !v.missing_module && v.in_version) {
            let d = model.directive(v.id);
            if model.block(d.parent).kind != crate::model::nginx::BlockKind::Http {
                continue;
            }
            let Some(body) = d.block else { continue };
            for (n, arg, message) in super::handlers::map_errors(model, d) {
                let (file, range) = match model.items(body).get(n) {
                    Some(line) => {
                        let l = model.directive(*line);
                        (l.file, l.name_range())
                    }
                    None => (
                        d.file,
                        arg.and_then(|i| d.args.get(i))
                            .map_or(d.name_range(), |a| a.range),
                    ),
                };
                out.push(Diagnostic::new(MAP.id, MAP.severity, file, range, message).with_help(
                    "each line of a map body is `KEY VALUE;` (plus one `default VALUE;`, `hostnames;`, `volatile;`, `include FILE;`)",
                ));
            }
        }
    }
}
