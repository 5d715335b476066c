//! The rule engine: the [`Rule`] trait, the registry of every rule, and their metadata.
//!
//! A rule reads the stack model and returns diagnostics whose fixes are byte-range edits; it
//! never reads files or touches text itself. Its documentation, `rules/<id>.md`, is compiled
//! into the binary for `gatelint explain` and its examples are run by the test suite.

pub mod core;
pub mod doc;
#[cfg(test)]
mod doc_tests;
pub mod fpm;
pub mod nginx;
pub mod nginx_t;
pub mod php;
pub mod stack;

use crate::config::Config;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::source::{FileKind, Files};

/// A typed rule option with its default, overridable in `[rules.<id>]` of gatelint.toml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OptionMeta {
    /// The option's key.
    pub name: &'static str,
    /// The default, as written in gatelint.toml.
    pub default: &'static str,
    /// What the option means and where its default comes from.
    pub doc: &'static str,
}

/// What every rule declares about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// The stable kebab-case id.
    pub id: &'static str,
    /// The default severity.
    pub severity: Severity,
    /// The file kinds the rule reads.
    pub kinds: &'static [FileKind],
    /// One line saying what the rule finds.
    pub summary: &'static str,
    /// The applicability of the rule's fix, when it has one.
    pub fix: Option<Applicability>,
    /// The rule's options.
    pub options: &'static [OptionMeta],
}

/// What a rule sees: every file of the run, the stack model and the settings.
pub struct Checker<'a> {
    /// The files of the run.
    pub files: &'a Files,
    /// The stack model.
    pub stack: &'a crate::model::stack::Stack,
    /// The settings.
    pub config: &'a Config,
    /// Work several rules share, done once per run on first use.
    pub shared: Shared,
}

/// Computations several rules need, done once per lint run.
#[derive(Debug, Default)]
pub struct Shared {
    /// Every nginx directive with its context and the directive table's verdict.
    pub nginx_visits: std::sync::OnceLock<Vec<nginx_t::walk::Visit>>,
    /// Every address every `*_pass` sends to, upstream blocks resolved.
    pub pass_sites: std::sync::OnceLock<Vec<stack::context::PassSite>>,
    /// Every `listen` with its parsed address ([`nginx_t::listen::listen_addrs`]).
    pub listen_addrs: std::sync::OnceLock<
        crate::model::hash::FastMap<
            crate::model::nginx::DirectiveId,
            Result<nginx_t::listen::ListenAddr, String>,
        >,
    >,
    /// The blocks where nginx checks buffer relations ([`nginx::buffers::checked_sets`]).
    pub buffer_sets: std::sync::OnceLock<
        Vec<(
            crate::model::nginx::BlockId,
            &'static str,
            nginx::buffers::Buffers,
        )>,
    >,
}

impl Checker<'_> {
    /// [`stack::context::pass_sites`] of this run's nginx model, computed once.
    pub fn pass_sites(&self) -> &[stack::context::PassSite] {
        self.shared
            .pass_sites
            .get_or_init(|| stack::context::pass_sites(&self.stack.nginx))
    }
}

impl<'a> Checker<'a> {
    /// A checker over a workspace's files and stack.
    pub fn new(
        files: &'a Files,
        stack: &'a crate::model::stack::Stack,
        config: &'a Config,
    ) -> Self {
        Checker {
            files,
            stack,
            config,
            shared: Shared::default(),
        }
    }
}

/// One rule.
pub trait Rule: Sync {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;
    /// Check the stack and push findings (with the rule's default severity) onto `out`.
    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>);
}

/// Declare a pack's rules and compile their docs (`rules/<id>.md`) into the binary.
///
/// `pack!{ "rule-id" => path::ToRule, … }` defines `RULES` and `DOCS` in the calling module.
#[macro_export]
macro_rules! rule_pack {
    ($($id:literal => $rule:path),* $(,)?) => {
        /// The rules of this pack.
        pub static RULES: &[&dyn $crate::rules::Rule] = &[$(&$rule),*];
        /// The documentation of each rule of this pack, as `(id, markdown)`.
        pub static DOCS: &[(&str, &str)] = &[
            $(($id, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $id, ".md"))),)*
        ];
    };
}

/// A pack: its rules and their docs.
type Pack = (
    &'static [&'static dyn Rule],
    &'static [(&'static str, &'static str)],
);

/// The packs, in the order their rules run and are listed.
fn packs() -> [Pack; 6] {
    [
        (core::RULES, core::DOCS),
        (nginx_t::RULES, nginx_t::DOCS),
        (nginx::RULES, nginx::DOCS),
        (fpm::RULES, fpm::DOCS),
        (php::RULES, php::DOCS),
        (stack::RULES, stack::DOCS),
    ]
}

/// Every rule gatelint has, in a stable order.
pub fn registry() -> Vec<&'static dyn Rule> {
    packs()
        .iter()
        .flat_map(|(r, _)| r.iter().copied())
        .collect()
}

/// The documentation of every rule, as `(id, markdown)`.
pub fn docs() -> Vec<(&'static str, &'static str)> {
    packs()
        .iter()
        .flat_map(|(_, d)| d.iter().copied())
        .collect()
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static dyn Rule> {
    registry().into_iter().find(|r| r.meta().id == id)
}

/// The documentation of the rule with this id.
pub fn doc_of(id: &str) -> Option<&'static str> {
    docs().into_iter().find(|(i, _)| *i == id).map(|(_, d)| d)
}

/// One rule per shared table: the nginx -t walk, the pass targets with the name index,
/// the buffer settings, the pass sites.
const FIRST: &[&str] = &[
    "nginx-unknown-directive",
    "proxy-pass-unknown-upstream",
    "busy-buffers-size-invalid",
    "fpm-listen-loopback-unreachable",
];

/// Run every enabled rule, apply severity overrides, and sort the findings by file and place.
pub fn run_rules(cx: &Checker<'_>) -> Vec<Diagnostic> {
    let mut rules: Vec<&dyn Rule> = registry()
        .into_iter()
        .filter(|r| cx.config.is_enabled(r.meta().id))
        .collect();
    // Rules that first build one of the run's shared tables go first, each needing a
    // different one, so the threads build them side by side instead of one thread
    // waiting for a table the other is building.
    rules.sort_by_key(|r| {
        FIRST
            .iter()
            .position(|id| *id == r.meta().id)
            .unwrap_or(FIRST.len())
    });
    // Rules only read the model: run them on every core the machine offers.
    let threads = crate::machine::cores().clamp(1, 8).min(rules.len().max(1));
    // Each thread takes the next rule not yet taken, so a thread that waits for a shared
    // computation (or runs a costly rule) does not hold back a fixed share of the rules.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run = |_part: usize| -> Vec<Diagnostic> {
        let mut out = Vec::new();
        while let Some(rule) = rules.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            let start = out.len();
            rule.check(cx, &mut out);
            if let Some(sev) = cx.config.severity.get(rule.meta().id) {
                for d in &mut out[start..] {
                    d.severity = *sev;
                }
            }
        }
        out
    };
    let mut out = if threads == 1 {
        run(0)
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (1..threads)
                .map(|p| {
                    scope.spawn(move || {
                        let _ = crate::machine::huge_pages_for_this_thread();
                        run(p)
                    })
                })
                .collect();
            let mut out = run(0);
            for h in handles {
                // A panicking rule is a bug; re-raise it rather than lose findings silently.
                match h.join() {
                    Ok(part) => out.extend(part),
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
            out
        })
    };
    out.sort_by(|a, b| {
        (a.file, a.range.start, a.rule, &a.message).cmp(&(
            b.file,
            b.range.start,
            b.rule,
            &b.message,
        ))
    });
    out.dedup();
    out
}

#[cfg(test)]
mod order_tests {
    use super::*;

    #[test]
    fn the_rules_run_first_exist() {
        for id in FIRST {
            assert!(find(id).is_some(), "{id} is not a rule");
        }
    }
}
