//! Rules about reading the files themselves: syntax errors and includes that fail.

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::stack::ProblemKind;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

crate::rule_pack! {
    "syntax-error" => SyntaxError,
    "include-error" => IncludeError,
    "invalid-suppression" => InvalidSuppression,
}

/// `syntax-error`: a file the real program cannot read.
pub struct SyntaxError;

static SYNTAX: RuleMeta = RuleMeta {
    id: "syntax-error",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx, FileKind::Fpm, FileKind::PhpIni],
    summary: "a file has a syntax error: nginx refuses to load it, PHP drops the rest of it",
    fix: None,
    options: &[],
};

impl Rule for SyntaxError {
    fn meta(&self) -> &'static RuleMeta {
        &SYNTAX
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        report(cx, out, ProblemKind::Syntax, &SYNTAX);
    }
}

/// `include-error`: an `include` that names a missing file, or that loops.
pub struct IncludeError;

static INCLUDE: RuleMeta = RuleMeta {
    id: "include-error",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx, FileKind::Fpm],
    summary: "an include names a file that does not exist, or includes itself",
    fix: None,
    options: &[],
};

impl Rule for IncludeError {
    fn meta(&self) -> &'static RuleMeta {
        &INCLUDE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        report(cx, out, ProblemKind::Include, &INCLUDE);
    }
}

fn report(cx: &Checker<'_>, out: &mut Vec<Diagnostic>, kind: ProblemKind, meta: &RuleMeta) {
    for p in cx.stack.problems.iter().filter(|p| p.kind == kind) {
        let mut d = Diagnostic::new(meta.id, meta.severity, p.file, p.range, p.message.clone());
        if let Some(note) = &p.note {
            d = d.with_help(note.clone());
        }
        out.push(d);
    }
}

/// `invalid-suppression`: a suppression comment that names no known rule or is malformed.
pub struct InvalidSuppression;

static INVALID_SUPPRESSION: RuleMeta = RuleMeta {
    id: "invalid-suppression",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx, FileKind::Fpm, FileKind::PhpIni],
    summary: "a `gatelint: ignore[…]` comment names an unknown rule or is malformed",
    fix: None,
    options: &[],
};

impl Rule for InvalidSuppression {
    fn meta(&self) -> &'static RuleMeta {
        &INVALID_SUPPRESSION
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let known: Vec<&str> = crate::rules::registry()
            .iter()
            .map(|r| r.meta().id)
            .collect();
        for s in &cx.stack.suppressions {
            for r in &s.rules {
                if r.id == "all" || known.contains(&r.id.as_str()) {
                    continue;
                }
                let mut d = Diagnostic::new(
                    INVALID_SUPPRESSION.id,
                    INVALID_SUPPRESSION.severity,
                    s.file,
                    r.range,
                    format!("unknown rule `{}` in a suppression comment", r.id),
                );
                if let Some(near) = crate::cli::rules::closest_rule(&r.id) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                out.push(d);
            }
        }
        for (file, range, message) in &cx.stack.bad_suppressions {
            out.push(Diagnostic::new(
                INVALID_SUPPRESSION.id,
                INVALID_SUPPRESSION.severity,
                *file,
                *range,
                message.clone(),
            ));
        }
    }
}
