//! Values checked by the handlers of a few common directives (not nginx's generic slots),
//! with nginx's words: `worker_connections`, `worker_processes`, `return`, `location`,
//! `error_log`, `if` conditions, and the bodies of `map` blocks (`ngx_http_map()` in
//! src/http/modules/ngx_http_map_module.c).

use crate::model::nginx::{Directive, NginxModel};
use crate::model::nginx_directives::Context;

/// The log levels `error_log` takes (src/core/ngx_log.c).
const LOG_LEVELS: &[&str] = &[
    "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
];

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for the names [`handler_value_error`] checks (the arms of its `match`): a rule
/// reading 100 000 directives calls it for these alone.
pub fn has_handler_check(name: &str) -> bool {
    matches!(
        name,
        "return"
            | "location"
            | "if"
            | "worker_connections"
            | "worker_processes"
            | "add_header"
            | "add_trailer"
            | "open_file_cache"
            | "limit_req"
            | "dav_access"
            | "fastcgi_split_path_info"
            | "error_log"
    ) || (name.ends_with("_temp_path") && name != "ssl_temp_path")
        || name.ends_with("_store_access")
}

/// The names of the directive table that [`has_handler_check`] accepts.
pub static HANDLER_CHECKED: std::sync::LazyLock<super::walk::NameKeys> =
    std::sync::LazyLock::new(|| super::walk::NameKeys::matching(has_handler_check));

/// nginx's message for a value one of these handlers refuses, with the argument index.
/// `ctx` tells the http `return` and `location` from their stream namesakes.
/// Only the names of [`has_handler_check`] can have one.
pub fn handler_value_error(d: &Directive, ctx: Context) -> Option<(usize, String)> {
    let a0 = d.arg(0)?;
    let http = matches!(
        ctx,
        Context::Server | Context::Location | Context::If | Context::LocationIf
    );
    match d.name.as_ref() {
        "return" | "location" | "if" if !http => None,
        "if" => {
            let args: Vec<&str> = d.args.iter().map(|a| a.value.as_str()).collect();
            if_condition_error(&args)
        }
        "worker_connections" if !is_number(a0) => Some((0, format!("invalid number \"{a0}\""))),
        "worker_processes" if a0 != "auto" && !is_number(a0) => {
            Some((0, "\"worker_processes\" directive invalid value".into()))
        }
        "return" => {
            let code_ok = is_number(a0) && a0.parse::<u32>().is_ok_and(|c| c <= 999);
            let url = d.args.len() == 1
                && ["http://", "https://", "$scheme"]
                    .iter()
                    .any(|p| a0.starts_with(p));
            (!code_ok && !url).then(|| (0, format!("invalid return code \"{a0}\"")))
        }
        "location" if d.args.len() == 2 => (!matches!(a0, "=" | "~" | "~*" | "^~"))
            .then(|| (0, format!("invalid location modifier \"{a0}\""))),
        "add_header" | "add_trailer" => d
            .arg(2)
            .filter(|a| *a != "always")
            .map(|a| (2, format!("invalid parameter \"{a}\""))),
        n if n.ends_with("_temp_path") && n != "ssl_temp_path" => {
            // `ngx_conf_set_path_slot`: each level is a number, not 0.
            d.args.iter().enumerate().skip(1).find_map(|(i, a)| {
                let ok = is_number(&a.value) && a.value.parse::<u32>().is_ok_and(|l| l > 0);
                (!ok).then(|| (i, format!("\"{n}\" directive invalid value")))
            })
        }
        "open_file_cache" if a0 != "off" => {
            let mut has_max = false;
            for (i, a) in d.args.iter().enumerate() {
                let v = a.value.as_str();
                let ok = if let Some(n) = v.strip_prefix("max=") {
                    has_max = true;
                    is_number(n) && n.bytes().any(|b| b != b'0')
                } else if let Some(t) = v.strip_prefix("inactive=") {
                    crate::model::nginx_values::parse_time_ms(t).is_some()
                } else {
                    false
                };
                if !ok {
                    return Some((i, format!("invalid \"open_file_cache\" parameter \"{v}\"")));
                }
            }
            (!has_max).then(|| {
                (
                    0,
                    "\"open_file_cache\" must have the \"max\" parameter".into(),
                )
            })
        }
        "limit_req" => {
            // `ngx_http_limit_req()`: zone=, burst=, delay=, nodelay.
            let mut zone = false;
            for (i, a) in d.args.iter().enumerate() {
                let v = a.value.as_str();
                if v.starts_with("zone=") {
                    zone = true;
                } else if let Some(n) = v.strip_prefix("burst=") {
                    if !is_number(n) {
                        return Some((i, format!("invalid burst value \"{v}\"")));
                    }
                } else if let Some(n) = v.strip_prefix("delay=") {
                    if !is_number(n) {
                        return Some((i, format!("invalid delay value \"{v}\"")));
                    }
                } else if v != "nodelay" {
                    return Some((i, format!("invalid parameter \"{v}\"")));
                }
            }
            (!zone).then(|| (0, "\"limit_req\" must have \"zone\" parameter".into()))
        }
        n if n.ends_with("_store_access") || n == "dav_access" => {
            // `ngx_conf_set_access_slot`: user:, group: or all: with r or rw.
            d.args.iter().enumerate().find_map(|(i, a)| {
                let v = a.value.as_str();
                let right = ["user:", "group:", "all:"]
                    .iter()
                    .find_map(|p| v.strip_prefix(p));
                (!matches!(right, Some("r" | "rw"))).then(|| (i, format!("invalid value \"{v}\"")))
            })
        }
        "fastcgi_split_path_info" => {
            (regex_captures(a0) != 2).then(|| (0, format!("pattern \"{a0}\" must have 2 captures")))
        }
        "error_log" => {
            let mut seen: Vec<&str> = Vec::new();
            for (i, a) in d.args.iter().enumerate().skip(1) {
                let v = a.value.as_str();
                if !LOG_LEVELS[1..].contains(&v) && !v.starts_with("debug_") {
                    return Some((i, format!("invalid log level \"{v}\"")));
                }
                if seen.contains(&v) {
                    return Some((i, format!("duplicate log level \"{v}\"")));
                }
                seen.push(v);
            }
            None
        }
        _ => None,
    }
}

/// What `ngx_http_rewrite_if_condition()` (src/http/modules/ngx_http_rewrite_module.c)
/// refuses in the arguments of an `if`, with the index of the argument it names. The
/// parentheses may stand alone or touch the first and last words, as nginx allows.
pub fn if_condition_error(args: &[&str]) -> Option<(usize, String)> {
    let invalid = |i: usize, v: &str| Some((i, format!("invalid condition \"{v}\"")));
    let unexpected = |i: usize, v: &str| Some((i, format!("unexpected \"{v}\" in condition")));
    // nginx trims the parentheses in place: a word may lose both when it is the only one.
    let mut words: Vec<&str> = args.to_vec();
    let first = *words.first()?;
    if !first.starts_with('(') {
        return invalid(0, first);
    }
    let mut cur = 0;
    if first.len() == 1 {
        cur = 1;
    } else {
        words[0] = &first[1..];
    }
    let mut last = words.len() - 1;
    let end = words[last];
    if !end.ends_with(')') {
        return invalid(last, end);
    }
    if end.len() == 1 {
        if last == 0 {
            return invalid(0, end);
        }
        last -= 1;
    } else {
        words[last] = &end[..end.len() - 1];
    }
    // nginx reads the word at `cur` even past `last` (`if ( )`); the end check above
    // guarantees there is one.
    let Some(&word) = words.get(cur) else {
        return invalid(last, words[last]);
    };
    let b = word.as_bytes();
    if b.len() > 1 && b[0] == b'$' {
        if cur != last && cur + 2 != last {
            return invalid(cur, word);
        }
        if cur == last {
            return None;
        }
        let op = words[cur + 1];
        return (!matches!(op, "=" | "!=" | "~" | "~*" | "!~" | "!~*"))
            .then(|| unexpected(cur + 1, op))
            .flatten();
    }
    let file_test =
        (b.len() == 2 && b[0] == b'-') || (b.len() == 3 && b[0] == b'!' && b[1] == b'-');
    if file_test {
        if cur + 1 != last {
            return invalid(cur, word);
        }
        let flag = b[b.len() - 1];
        return (!matches!(flag, b'f' | b'd' | b'e' | b'x'))
            .then(|| invalid(cur, word))
            .flatten();
    }
    invalid(cur, word)
}

/// The number of capturing groups in a PCRE pattern (plain and named groups; escapes,
/// classes and `(?…)` groups skipped).
pub fn regex_captures(pattern: &str) -> usize {
    let b = pattern.as_bytes();
    let (mut i, mut n, mut in_class) = (0, 0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let rest = &b[i + 1..];
                let named = rest.starts_with(b"?<")
                    && !rest.starts_with(b"?<=")
                    && !rest.starts_with(b"?<!")
                    || rest.starts_with(b"?P<")
                    || rest.starts_with(b"?'");
                if !rest.starts_with(b"?") || named {
                    n += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    n
}

/// Problems in one `map` block: its variable, and each line of its body.
/// Returns (directive of the line or the map, argument index or None, message).
pub fn map_errors(model: &NginxModel, map: &Directive) -> Vec<(usize, Option<usize>, String)> {
    let mut out = Vec::new();
    let Some(body) = map.block else { return out };
    if let Some(var) = map.args.get(1) {
        if !var.value.starts_with('$') || var.value.len() < 2 {
            return vec![(
                usize::MAX,
                Some(1),
                format!("invalid variable name \"{}\"", var.value),
            )];
        }
    }
    let mut has_default = false;
    let mut keys: Vec<String> = Vec::new();
    for (n, id) in model.items(body).iter().enumerate() {
        let line = model.directive(*id);
        let nargs = line.args.len();
        let ok = match line.name.as_ref() {
            "hostnames" | "volatile" if nargs == 0 => true,
            "include" if nargs == 1 => true,
            _ => nargs == 1,
        };
        if !ok || line.block.is_some() {
            out.push((n, None, "invalid number of the map parameters".to_string()));
            continue;
        }
        if matches!(line.name.as_ref(), "hostnames" | "volatile" | "include") && nargs != 1 {
            continue;
        }
        if line.name == "default" {
            if has_default {
                out.push((n, None, "duplicate default map parameter".to_string()));
            }
            has_default = true;
            continue;
        }
        if line.name.starts_with('~') {
            continue;
        }
        let key = line
            .name
            .strip_prefix('\\')
            .unwrap_or(&line.name)
            .to_ascii_lowercase();
        if keys.contains(&key) {
            out.push((n, None, format!("conflicting parameter \"{}\"", line.name)));
        } else {
            keys.push(key);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::nginx::BlockId;
    use crate::model::nginx_directives::DIRECTIVES;

    fn directive(name: &str, args: &[&str]) -> Directive {
        Directive::for_test(name, args, BlockId(0))
    }

    #[test]
    fn if_conditions_are_checked_as_nginx_checks_them() {
        let ok: &[&[&str]] = &[
            &["($x)"],
            &["(", "$x", ")"],
            &["($request_method", "=", "POST)"],
            &["(", "$http_user_agent", "~*", "MSIE", ")"],
            &["($uri", "!~", "^/a)"],
            &["(!-f", "$request_filename)"],
            &["(-d", "$request_filename", ")"],
        ];
        for a in ok {
            assert_eq!(if_condition_error(a), None, "{a:?}");
        }
        // Each as `nginx -t` words it.
        let bad: &[(&[&str], usize, &str)] = &[
            // The case nginx -t words as `invalid condition "$x"` (`if ($x {`).
            (&["($x"], 0, "invalid condition \"$x\""),
            (&["$x)"], 0, "invalid condition \"$x)\""),
            (&["($x", "=)"], 0, "invalid condition \"$x\""),
            (&["($x", "==", "1)"], 1, "unexpected \"==\" in condition"),
            (&["(-z", "$f)"], 0, "invalid condition \"-z\""),
            (&["(-f)"], 0, "invalid condition \"-f\""),
            (&["(foo)"], 0, "invalid condition \"foo\""),
            (&["()"], 0, "invalid condition \")\""),
            (&["($x", "=", "a", "b)"], 0, "invalid condition \"$x\""),
            (&["(-f", "a", "b)"], 0, "invalid condition \"-f\""),
            (&["(", ")"], 1, "invalid condition \")\""),
        ];
        for (a, i, msg) in bad {
            assert_eq!(if_condition_error(a), Some((*i, msg.to_string())), "{a:?}");
        }
    }

    #[test]
    fn only_the_listed_names_have_a_handler_check() {
        // InvalidValue skips the names `has_handler_check` refuses: none of them may have
        // a check here, whatever the arguments.
        let args: &[&[&str]] = &[
            &["x"],
            &["0"],
            &["x", "y", "z"],
            &["=", "/"],
            &["zz", "/"],
            &["max=0"],
            &["on", "x", "1"],
            &["/tmp", "0"],
        ];
        let contexts = [
            Context::Main,
            Context::Http,
            Context::Server,
            Context::Location,
            Context::Stream,
        ];
        for spec in DIRECTIVES {
            if has_handler_check(spec.name) {
                continue;
            }
            for a in args {
                for ctx in contexts {
                    assert_eq!(
                        handler_value_error(&directive(spec.name, a), ctx),
                        None,
                        "{} {a:?}",
                        spec.name
                    );
                }
            }
        }
        // And the listed ones are checked.
        let d = directive("worker_connections", &["many"]);
        assert!(has_handler_check(&d.name));
        assert!(handler_value_error(&d, Context::Events).is_some());
        assert!(HANDLER_CHECKED.clone().contains_name("proxy_temp_path"));
        assert!(!HANDLER_CHECKED.clone().contains_name("ssl_temp_path"));
    }
}
