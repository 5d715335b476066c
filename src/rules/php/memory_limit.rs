//! `php-memory-limit-too-low`: the `memory_limit` a pool's workers run with (php.ini, then
//! conf.d, then the pool's `php_value`/`php_admin_value`) is too low, or a value PHP
//! silently refuses (such as `128MB`, read as 128 bytes) sits in a file.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::php::{EffectiveMemoryLimit, Layer, Sapi};
use crate::model::values::MemoryLimit;
use crate::rule_meta;
use crate::rules::stack::context::{opt_size, php_of, pools};
use crate::rules::{Checker, OptionMeta, Rule, RuleMeta};
use std::collections::BTreeSet;

/// The rule.
pub struct MemoryLimitTooLow;
static OPTIONS: &[OptionMeta] = &[
    OptionMeta {
        name: "min",
        default: "32M",
        doc: "an effective memory_limit below this is reported (the catalog's threshold: frameworks' bootstrap alone needs tens of MiB)",
    },
    OptionMeta {
        name: "suggested",
        default: "128M",
        doc: "the value the fix writes (PHP's own default and php.ini-production's)",
    },
];
rule_meta!(
    META,
    "php-memory-limit-too-low",
    Warning,
    [PhpIni, Fpm],
    "the memory_limit PHP-FPM's workers run with is too low, or a memory_limit value is refused by PHP",
    Some(Applicability::Unsafe),
    OPTIONS
);

fn show(limit: MemoryLimit) -> String {
    match limit {
        MemoryLimit::Unlimited => "-1 (no limit)".into(),
        MemoryLimit::Bytes(b) if b % (1024 * 1024) == 0 => format!("{}M", b / (1024 * 1024)),
        MemoryLimit::Bytes(b) => format!("{b} bytes"),
    }
}

/// What a refused value most likely meant: `128MB` → `128M`.
fn meant(value: &str) -> Option<String> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    for unit in ["kb", "mb", "gb"] {
        if let Some(num) = lower.strip_suffix(unit) {
            if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                return Some(format!(
                    "{}{}",
                    &v[..num.len()],
                    &v[num.len()..num.len() + 1].to_ascii_uppercase()
                ));
            }
        }
    }
    None
}

impl Rule for MemoryLimitTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let min = opt_size(cx.config, META.id, "min", 32 << 20);
        let suggested = match cx.config.rule_option(META.id, "suggested") {
            Some(toml::Value::String(s)) => s.clone(),
            _ => "128M".to_string(),
        };
        let mut seen = BTreeSet::new();
        let mut used = BTreeSet::new();
        for p in pools(cx.stack) {
            let ini = php_of(cx.stack, cx.files, p.cfg);
            used.insert(ini as *const _ as usize);
            let eml = ini.for_pool(p.pool).memory_limit();
            check(
                cx,
                &eml,
                &format!("pool [{}]'s workers", p.pool.name),
                min,
                &suggested,
                &mut seen,
                out,
            );
        }
        for set in &cx.stack.php {
            if set.ini.sapi == Some(Sapi::Cli) || used.contains(&(&set.ini as *const _ as usize)) {
                continue;
            }
            check(
                cx,
                &set.ini.memory_limit(),
                "PHP-FPM's workers",
                min,
                &suggested,
                &mut seen,
                out,
            );
        }
    }
}

fn check(
    cx: &Checker<'_>,
    eml: &EffectiveMemoryLimit,
    who: &str,
    min: u64,
    suggested: &str,
    seen: &mut BTreeSet<(u32, u32)>,
    out: &mut Vec<Diagnostic>,
) {
    for (s, warnings) in &eml.refused {
        let Some(file) = s.file else { continue };
        if !seen.insert((file.0, s.value_range.start)) {
            continue;
        }
        let why = warnings.last().cloned().unwrap_or_default();
        let who = if s.layer == Layer::Ini {
            "PHP-FPM's workers"
        } else {
            who
        };
        let fix_to = meant(&s.value).unwrap_or_else(|| suggested.to_string());
        // A `${VAR}` value is filled in at start-up: say so, and leave the template alone.
        let raw = cx.files.get(file).slice_lossy(s.value_range).into_owned();
        let templated = raw.contains("${");
        let shown = if templated {
            format!("{raw} (\"{}\" when the variable is unset)", s.value)
        } else {
            s.value.clone()
        };
        let mut d = Diagnostic::new(
                META.id,
                META.severity,
                file,
                s.value_range,
                format!(
                    "PHP refuses memory_limit = {shown} ({why}) and keeps {}: {who} do not get the limit this line asks for",
                    show(eml.limit)
                ),
            );
        if !templated {
            d = d.with_fix(Fix::new(
                format!("memory_limit = {fix_to}"),
                Applicability::Unsafe,
                vec![Edit::replace(file, s.value_range, fix_to.clone())],
            ));
        }
        out.push(d);
    }
    let MemoryLimit::Bytes(b) = eml.limit else {
        return;
    };
    if b >= min {
        return;
    }
    let Some(s) = &eml.set_by else { return };
    let Some(file) = s.file else { return };
    if !seen.insert((file.0, s.value_range.start)) {
        return;
    }
    out.push(
        Diagnostic::new(
            META.id,
            META.severity,
            file,
            s.value_range,
            format!(
                "{who} run with memory_limit = {} ({b} bytes): scripts die with `Allowed memory size … exhausted` during bootstrap, and clients see 500 or 502",
                s.value
            ),
        )
        .with_fix(Fix::new(
            format!("memory_limit = {suggested}"),
            Applicability::Unsafe,
            vec![Edit::replace(file, s.value_range, suggested.to_string())],
        )),
    );
}
