//! Rules that read nginx alone.

pub mod proxy_pass_variable_without_resolver;

crate::rule_pack! {
    "proxy-pass-variable-without-resolver" => proxy_pass_variable_without_resolver::ProxyPassVariableWithoutResolver,
}

use crate::model::nginx::{BlockId, DirectiveId, NginxModel};
use crate::model::nginx_values::{is_ip_literal, parse_pass, PassKind, PassTarget};

/// Every `*_pass` directive with its parsed target (unparsable ones are left out: the
/// nginx -t checks report those).
pub fn pass_directives(model: &NginxModel) -> Vec<(DirectiveId, PassTarget)> {
    model
        .directives
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let kind = PassKind::of(&d.name)?;
            let target = parse_pass(kind, d.arg(0)?).ok()?;
            Some((DirectiveId(i as u32), target))
        })
        .collect()
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
        for line in &model.block(body).items {
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
