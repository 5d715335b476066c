//! `php-ini-syntax-error-drops-rest`: the settings PHP never reads because a syntax error
//! above them ends the reading of their file.
//!
//! The `syntax-error` rule reports the error itself, worded as PHP words it. This rule adds
//! what it costs: the directives that matter for a web stack written after the error, which
//! silently keep PHP's defaults. It fires only when such directives exist.

use crate::diagnostic::Diagnostic;
use crate::rule_meta;
use crate::rules::{Checker, Rule, RuleMeta};
use std::collections::BTreeSet;

/// The rule.
pub struct SyntaxErrorDropsRest;
rule_meta!(
    META,
    "php-ini-syntax-error-drops-rest",
    Warning,
    [PhpIni],
    "a php.ini syntax error makes PHP ignore important settings written after it",
    None
);

/// Keys whose loss changes how requests run (limits, timeouts, extensions, caches).
const IMPORTANT: &[&str] = &[
    "memory_limit",
    "max_execution_time",
    "max_input_time",
    "max_input_vars",
    "post_max_size",
    "upload_max_filesize",
    "default_socket_timeout",
    "output_buffering",
    "extension",
    "zend_extension",
    "session.save_handler",
    "session.save_path",
    "date.timezone",
    "error_log",
    "display_errors",
    "log_errors",
    "realpath_cache_size",
];

fn important(key: &str) -> bool {
    IMPORTANT.contains(&key) || key.starts_with("opcache.")
}

impl Rule for SyntaxErrorDropsRest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let mut seen = BTreeSet::new();
        for set in &cx.stack.php {
            for (file, err) in &set.ini.errors {
                if !seen.insert((file.0, err.error.range.start)) {
                    continue;
                }
                let f = cx.files.get(*file);
                let from = (err.dropped_from as usize).min(f.text.len());
                let rest = &f.text[from..];
                let first_line = f.line_col(err.dropped_from).line;
                let mut lost = Vec::new();
                for (i, line) in rest.split(|b| *b == b'\n').enumerate() {
                    let line = String::from_utf8_lossy(line);
                    let t = line.trim();
                    if t.is_empty() || t.starts_with(';') || t.starts_with('[') {
                        continue;
                    }
                    let Some((key, _)) = t.split_once('=') else {
                        continue;
                    };
                    let key = key.trim();
                    if important(key) {
                        lost.push(format!("{key} (line {})", first_line as usize + i));
                    }
                }
                if lost.is_empty() {
                    continue;
                }
                let shown = if lost.len() > 8 {
                    format!("{}, and {} more", lost[..8].join(", "), lost.len() - 8)
                } else {
                    lost.join(", ")
                };
                out.push(
                    Diagnostic::new(
                        META.id,
                        META.severity,
                        *file,
                        err.error.range,
                        format!(
                            "PHP stops reading this file at this syntax error, so these settings after it never take effect and keep PHP's defaults: {shown}"
                        ),
                    )
                    .with_help("fix the syntax error (often an unquoted value with `=`, `;`, `{`, `!` or parentheses); the settings below it then apply again"),
                );
            }
        }
    }
}
