//! `opcache-interned-strings-exceeds-memory`: OPcache carves its interned-strings buffer
//! out of `opcache.memory_consumption`; a buffer as large as the whole makes OPcache abort
//! the start of PHP-FPM.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix};
use crate::model::php::{Layer, Sapi};
use crate::rule_meta;
use crate::rules::{Checker, Rule, RuleMeta};

/// The rule.
pub struct InternedStringsExceedMemory;
rule_meta!(
    META,
    "opcache-interned-strings-exceeds-memory",
    Warning,
    [PhpIni],
    "opcache.interned_strings_buffer is not smaller than opcache.memory_consumption: OPcache cannot allocate it",
    Some(Applicability::Unsafe)
);

impl Rule for InternedStringsExceedMemory {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        for set in &cx.stack.php {
            if set.ini.sapi == Some(Sapi::Cli) {
                continue;
            }
            let (Some(en), Some(mc), Some(isb)) = (
                set.ini.effective("opcache.enable"),
                set.ini.effective("opcache.memory_consumption"),
                set.ini.effective("opcache.interned_strings_buffer"),
            ) else {
                continue;
            };
            if mc.layer == Layer::Default && isb.layer == Layer::Default {
                continue;
            }
            let m = mc.integer().value;
            let i = isb.integer().value;
            if !en.boolean().value || i < m || m <= 0 {
                continue;
            }
            let (at, other) = if mc.file.is_some() {
                (&mc, &isb)
            } else {
                (&isb, &mc)
            };
            let Some(file) = at.file else { continue };
            let mut d = Diagnostic::new(
                META.id,
                META.severity,
                file,
                at.value_range,
                format!(
                    "opcache.interned_strings_buffer = {i} (MB) is not smaller than opcache.memory_consumption = {m} (MB), the shared memory it is carved from: PHP-FPM stops at start with `Fatal Error Zend OPcache cannot allocate buffer for interned strings`"
                ),
            );
            if let Some(f) = other.file {
                d = d.with_related(
                    f,
                    other.value_range,
                    format!("{} = {}", other.key, other.value),
                );
            }
            if mc.file.is_some() {
                let new = (i * 2).max(128);
                d = d.with_fix(Fix::new(
                    format!("opcache.memory_consumption = {new}"),
                    Applicability::Unsafe,
                    vec![Edit::replace(file, mc.value_range, new.to_string())],
                ));
            } else {
                let new = (m / 8).max(1);
                d = d.with_fix(Fix::new(
                    format!("opcache.interned_strings_buffer = {new}"),
                    Applicability::Unsafe,
                    vec![Edit::replace(file, isb.value_range, new.to_string())],
                ));
            }
            out.push(d);
        }
    }
}
