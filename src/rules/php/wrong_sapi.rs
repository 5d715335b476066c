//! `php-ini-wrong-sapi-edited`: a limit was raised in the command line's php.ini
//! (`/etc/php/X.Y/cli/php.ini`) while PHP-FPM reads `/etc/php/X.Y/fpm/php.ini`, which
//! keeps the lower value.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::php::{Sapi, Setting};
use crate::model::stack::PhpSet;
use crate::model::values::{max_execution_time, parse_uquantity};
use crate::rule_meta;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::Files;
use std::path::{Component, PathBuf};

/// The rule.
pub struct WrongSapiEdited;
rule_meta!(
    META,
    "php-ini-wrong-sapi-edited",
    Info,
    [PhpIni],
    "a limit raised in the CLI's php.ini while PHP-FPM's php.ini keeps a lower one",
    None
);

/// The FPM php.ini path of the same version: `…/cli/php.ini` → `…/fpm/php.ini`.
fn fpm_twin(path: &std::path::Path) -> PathBuf {
    path.components()
        .map(|c| match c {
            Component::Normal(n) if n == "cli" => Component::Normal("fpm".as_ref()),
            c => c,
        })
        .collect()
}

fn main_path<'a>(files: &'a Files, set: &PhpSet) -> Option<&'a std::path::Path> {
    set.files.first().map(|f| files.get(*f).path.as_path())
}

/// True for a value the packages ship in the command line's php.ini, which no user
/// edited: Debian's and Ubuntu's `php8.x-cli` install `cli/php.ini` with
/// `memory_limit = -1`.
fn is_cli_stock(key: &str, value: &str) -> bool {
    key == "memory_limit" && value.trim() == "-1"
}

/// A comparable size of a limit: `-1`/`0` (unlimited) is the largest.
fn rank(key: &str, value: &str) -> u64 {
    match key {
        "memory_limit" => parse_uquantity(value.as_bytes()).0,
        _ => match max_execution_time(value.as_bytes()) {
            n if n <= 0 => u64::MAX,
            n => n as u64,
        },
    }
}

impl Rule for WrongSapiEdited {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        for cli in cx
            .stack
            .php
            .iter()
            .filter(|s| s.ini.sapi == Some(Sapi::Cli))
        {
            let Some(path) = main_path(cx.files, cli) else {
                continue;
            };
            let twin = fpm_twin(path);
            let Some(fpm) = cx.stack.php.iter().find(|s| {
                s.ini.sapi != Some(Sapi::Cli) && main_path(cx.files, s) == Some(twin.as_path())
            }) else {
                continue;
            };
            for key in ["memory_limit", "max_execution_time"] {
                let Some((_, c)) = cli.ini.iter().find(|(k, _)| k.as_str() == key) else {
                    continue;
                };
                let Some(f) = fpm.ini.effective(key) else {
                    continue;
                };
                if rank(key, &c.value) <= rank(key, &f.value) || is_cli_stock(key, &c.value) {
                    continue;
                }
                let Some(file) = c.file else { continue };
                out.push(diag(file, c, &f, &twin));
            }
        }
    }
}

fn diag(
    file: crate::source::FileId,
    c: &Setting,
    f: &Setting,
    twin: &std::path::Path,
) -> Diagnostic {
    let mut d = Diagnostic::new(
        META.id,
        Severity::Info,
        file,
        c.value_range,
        format!(
            "{} = {} is set in the command line's php.ini, but PHP-FPM reads {}, where it is {}: web requests keep the lower limit",
            c.key,
            c.value,
            twin.display(),
            f.value
        ),
    )
    .with_help("make the change in PHP-FPM's php.ini (or a pool's php_admin_value) and reload PHP-FPM");
    if let Some(ff) = f.file {
        d = d.with_related(
            ff,
            f.value_range,
            format!("PHP-FPM's {} = {}", f.key, f.value),
        );
    }
    d
}
