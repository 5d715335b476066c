//! Helpers shared by the nginx rules: effective values with nginx's defaults, the `upstream`
//! a pass names, and the edits that insert or replace a directive in the right file.

use crate::diagnostic::Edit;
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_values::{parse_size, parse_time_ms};
use crate::rules::Checker;
use crate::source::{Files, TextRange};

/// nginx's page size on x86_64 and arm64 Linux: the default of every `*_buffer_size` and the
/// size of each default `*_buffers` buffer (`ngx_pagesize`).
pub const PAGE_SIZE: u64 = 4096;

/// Where a finding about an effective value of the pass `at` (in `block`) is reported,
/// with the block a fix sets the value in: at the value of the directive `set` that is in
/// effect, in the block it is written in, or at the pass itself when nothing sets it.
pub fn value_place(
    m: &NginxModel,
    set: Option<DirectiveId>,
    at: DirectiveId,
    block: BlockId,
) -> (crate::source::FileId, TextRange, BlockId) {
    match set {
        Some(s) => {
            let s = m.directive(s);
            (
                s.file,
                s.args.first().map(|a| a.range).unwrap_or(s.range),
                s.parent,
            )
        }
        None => {
            let d = m.directive(at);
            (d.file, d.range, block)
        }
    }
}

/// The first argument of the directive `name` in effect in `block`, with the directive.
pub fn eff_arg<'a>(
    m: &'a NginxModel,
    block: BlockId,
    name: &str,
) -> Option<(DirectiveId, &'a str)> {
    let id = m.effective(block, name)?;
    Some((id, m.directive(id).arg(0)?))
}

/// The effective time of `name` in `block` in milliseconds, or `default_ms` when absent;
/// `None` (with the directive) when the value does not parse (the nginx -t checks say so).
pub fn eff_time(
    m: &NginxModel,
    block: BlockId,
    name: &str,
    default_ms: u64,
) -> Option<(Option<DirectiveId>, u64)> {
    match eff_arg(m, block, name) {
        Some((id, v)) => Some((Some(id), parse_time_ms(v)?)),
        None => Some((None, default_ms)),
    }
}

/// The effective size of `name` in `block` in bytes, or `default` when absent.
pub fn eff_size(
    m: &NginxModel,
    block: BlockId,
    name: &str,
    default: u64,
) -> Option<(Option<DirectiveId>, u64)> {
    match eff_arg(m, block, name) {
        Some((id, v)) => Some((Some(id), parse_size(v)?)),
        None => Some((None, default)),
    }
}

/// True when the flag directive `name` is `on` in `block` (absent means `default`).
pub fn eff_flag(m: &NginxModel, block: BlockId, name: &str, default: bool) -> bool {
    match eff_arg(m, block, name) {
        Some((_, v)) => v.eq_ignore_ascii_case("on"),
        None => default,
    }
}

/// A rule option read as a time (`"10s"`, or an integer number of seconds).
pub fn option_time_ms(cx: &Checker<'_>, rule: &str, key: &str, default: &str) -> u64 {
    let v = cx.config.rule_option(rule, key);
    let parsed = match v {
        Some(toml::Value::String(s)) => parse_time_ms(s),
        Some(toml::Value::Integer(n)) if *n >= 0 => Some(*n as u64 * 1000),
        _ => None,
    };
    parsed.or_else(|| parse_time_ms(default)).unwrap_or(0)
}

/// A rule option read as an nginx size (`"16k"`, or an integer number of bytes).
pub fn option_size(cx: &Checker<'_>, rule: &str, key: &str, default: &str) -> u64 {
    let parsed = match cx.config.rule_option(rule, key) {
        Some(toml::Value::String(s)) => parse_size(s),
        Some(toml::Value::Integer(n)) if *n >= 0 => Some(*n as u64),
        _ => None,
    };
    parsed.or_else(|| parse_size(default)).unwrap_or(0)
}

/// A rule option read as an integer.
pub fn option_int(cx: &Checker<'_>, rule: &str, key: &str, default: i64) -> i64 {
    match cx.config.rule_option(rule, key) {
        Some(toml::Value::Integer(n)) => *n,
        Some(toml::Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

/// A rule option read as a list of strings.
pub fn option_list(cx: &Checker<'_>, rule: &str, key: &str, default: &[&str]) -> Vec<String> {
    match cx.config.rule_option(rule, key) {
        Some(toml::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(toml::Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
        _ => default.iter().map(|s| s.to_string()).collect(),
    }
}

/// Every http `upstream` block of the run, with its opening directive.
pub fn upstream_blocks(m: &NginxModel) -> Vec<(DirectiveId, BlockId)> {
    m.all_named("upstream")
        .filter_map(|d| {
            let b = m.directive(d).block?;
            (m.block(b).kind == BlockKind::Upstream).then_some((d, b))
        })
        .collect()
}

/// True when the `server` line of an upstream carries the flag `flag` (`down`, `backup`,
/// `resolve`).
pub fn server_has_flag(m: &NginxModel, server: DirectiveId, flag: &str) -> bool {
    m.directive(server)
        .args
        .iter()
        .skip(1)
        .any(|a| a.value == flag)
}

/// The edit that inserts the directive line `line` (without indent, `;` included) into
/// `block`: after the last item written in the block's own file (after a trailing comment
/// on that line), or right after the `{`. `None` when the block has no `{` in a file.
pub fn insert_line(m: &NginxModel, files: &Files, block: BlockId, line: &str) -> Option<Edit> {
    let b = m.block(block);
    let nl = m.newline(b.file);
    let indent = m.child_indent(block);
    let last = m
        .items(block)
        .iter()
        .rev()
        .map(|d| m.directive(*d))
        .find(|d| d.file == b.file);
    match last {
        Some(d) => {
            let text = &files.get(d.file).text;
            let mut at = d.range.end as usize;
            // Keep a trailing comment with its own directive.
            let mut i = at;
            while i < text.len() && (text[i] == b' ' || text[i] == b'\t') {
                i += 1;
            }
            if i < text.len() && text[i] == b'#' {
                while i < text.len() && text[i] != b'\n' && text[i] != b'\r' {
                    i += 1;
                }
                at = i;
            }
            Some(Edit::insert(
                b.file,
                at as u32,
                format!("{nl}{indent}{line}"),
            ))
        }
        None if b.kind == BlockKind::Main || b.directive.is_none() => {
            Some(Edit::insert(b.file, 0, format!("{line}{nl}")))
        }
        None => {
            // An empty block: put the directive on its own line and the `}` on the next.
            let text = &files.get(b.file).text;
            let body = text
                .get(b.open as usize + 1..b.close as usize)
                .unwrap_or(&[]);
            if body.iter().all(|c| *c == b' ' || *c == b'\t') {
                let outer = b
                    .directive
                    .and_then(|d| m.indent(m.directive(d)))
                    .unwrap_or_default();
                let range = TextRange::new(b.open + 1, b.close);
                return Some(Edit::replace(
                    b.file,
                    range,
                    format!("{nl}{indent}{line}{nl}{outer}"),
                ));
            }
            Some(Edit::insert(
                b.file,
                b.open + 1,
                format!("{nl}{indent}{line}"),
            ))
        }
    }
}

/// The edit that inserts `line` on its own line right before directive `before`.
pub fn insert_before(m: &NginxModel, before: DirectiveId, line: &str) -> Edit {
    let d = m.directive(before);
    let nl = m.newline(d.file);
    match m.indent(d) {
        Some(ind) => Edit::insert(d.file, d.range.start, format!("{line}{nl}{ind}")),
        None => Edit::insert(d.file, d.range.start, format!("{line} ")),
    }
}

/// Set scalar directive `name` to `value` in `block`: replace its argument when it is
/// written in this block in the block's own file, insert it when the block has none.
/// `None` when it is written here in another file (an insertion would be a duplicate).
pub fn set_scalar(
    m: &NginxModel,
    files: &Files,
    block: BlockId,
    name: &str,
    value: &str,
) -> Option<Vec<Edit>> {
    let here: Vec<DirectiveId> = m.here(block, name).collect();
    match here.last() {
        Some(id) => {
            let d = m.directive(*id);
            if d.file != m.block(block).file || d.args.is_empty() {
                return None;
            }
            let first = d.args.first()?.range;
            let last = d.args.last()?.range;
            Some(vec![Edit::replace(d.file, first.cover(last), value)])
        }
        None => Some(vec![insert_line(
            m,
            files,
            block,
            &format!("{name} {value};"),
        )?]),
    }
}

/// Add `line` (an array directive `name`, such as `proxy_set_header`) to `block` without
/// changing what else is in effect: when the block inherits the directive from an outer
/// level, the inherited lines are copied in too, since any one line stops the inheritance.
pub fn add_array_line(
    m: &NginxModel,
    files: &Files,
    block: BlockId,
    name: &str,
    line: &str,
) -> Option<Vec<Edit>> {
    let mut lines = Vec::new();
    if m.here(block, name).next().is_none() {
        for id in m.effective_all(block, name) {
            let d = m.directive(id);
            lines.push(files.get(d.file).slice_lossy(d.range).into_owned());
        }
    }
    lines.push(line.to_string());
    let b = m.block(block);
    let nl = m.newline(b.file);
    let indent = m.child_indent(block);
    let first = insert_line(m, files, block, &lines[0])?;
    let mut text = first.replacement.clone();
    for l in &lines[1..] {
        text.push_str(nl);
        text.push_str(&indent);
        text.push_str(l);
    }
    if first.range.start == 0 && b.directive.is_none() {
        // Main context: each line was written with its own newline.
        text = lines.iter().map(|l| format!("{l}{nl}")).collect();
    }
    Some(vec![Edit::insert(first.file, first.range.start, text)])
}

/// Replace argument `i` of directive `id`.
pub fn replace_arg(m: &NginxModel, id: DirectiveId, i: usize, value: &str) -> Option<Edit> {
    let d = m.directive(id);
    Some(Edit::replace(d.file, d.args.get(i)?.range, value))
}

/// The range of a whole directive line for deletion: from its indentation to its newline,
/// or the directive alone when it shares its line.
pub fn line_range(m: &NginxModel, files: &Files, id: DirectiveId) -> TextRange {
    let d = m.directive(id);
    let text = &files.get(d.file).text;
    let Some(ind) = m.indent(d) else {
        return d.range;
    };
    let mut end = d.range.end as usize;
    while end < text.len() && (text[end] == b' ' || text[end] == b'\t') {
        end += 1;
    }
    if end < text.len() && text[end] == b'\r' {
        end += 1;
    }
    if end < text.len() && text[end] == b'\n' {
        TextRange::from_usize((d.range.start as usize).saturating_sub(ind.len()), end + 1)
    } else {
        d.range
    }
}

/// A location's match text (`/api/`, `~ \.php$`, `@named`), empty for other blocks.
pub fn location_text(m: &NginxModel, block: BlockId) -> String {
    let b = m.block(block);
    match b.directive {
        Some(d) if b.kind == BlockKind::Location => m
            .directive(d)
            .args
            .iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The span to report a block at: its opening directive's name, or the block's `{`.
pub fn block_span(m: &NginxModel, block: BlockId) -> (crate::source::FileId, TextRange) {
    let b = m.block(block);
    match b.directive {
        Some(d) => {
            let d = m.directive(d);
            (d.file, d.name_range())
        }
        None => (b.file, TextRange::empty(b.open)),
    }
}
