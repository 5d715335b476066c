//! The checks of `ngx_conf_handler()` (src/core/ngx_conf_file.c): is the name known, is it
//! allowed in this block, is it written with `;` or `{` as it must be, does it have a
//! number of arguments its rule accepts, and does the target nginx version have it.

use super::walk::{walk, Visit};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::NginxModel;
use crate::model::nginx_directives::{
    available_in, lookup, suggest, DirectiveSpec, Origin, Verdict,
};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The UTF-8 byte order mark, which nginx reads as part of the first directive's name.
const BOM: char = '\u{feff}';

/// Whether nginx built on Linux from its own source lacks the spec's module: third-party
/// modules, NGINX Plus, and event modules of other systems.
pub fn is_foreign(spec: &DirectiveSpec) -> bool {
    match spec.origin {
        Origin::ThirdParty { .. } | Origin::NginxPlus => true,
        Origin::Platform { os } => !os.contains("Linux"),
        _ => false,
    }
}

/// The word that identifies a module in a `load_module` file name:
/// `ngx_http_lua_module` → `lua`, `ngx_http_headers_more_filter_module` → `headers_more`.
fn module_word(module: &str) -> &str {
    let m = module.strip_prefix("ngx_").unwrap_or(module);
    let m = ["http_", "stream_", "mail_", "rtmp_"]
        .iter()
        .find_map(|p| m.strip_prefix(p))
        .unwrap_or(m);
    let m = m.strip_suffix("_module").unwrap_or(m);
    m.strip_suffix("_filter").unwrap_or(m)
}

/// Whether the configuration loads a dynamic module whose file name names `module`.
pub fn module_loaded(model: &NginxModel, module: &str) -> bool {
    let word = module_word(module);
    !word.is_empty()
        && model.all_named("load_module").any(|d| {
            model
                .directive(d)
                .arg(0)
                .is_some_and(|path| path.rsplit('/').next().unwrap_or(path).contains(word))
        })
}

/// When every spec of `name` is foreign and no `load_module` brings any of them in, the
/// spec to name in the warning (nginx itself would say "unknown directive").
pub fn missing_module(model: &NginxModel, name: &str) -> Option<&'static DirectiveSpec> {
    missing_module_of(model, lookup(name))
}

/// [`missing_module`] on the table's entries for the name.
pub fn missing_module_of(
    model: &NginxModel,
    specs: &'static [DirectiveSpec],
) -> Option<&'static DirectiveSpec> {
    if specs.is_empty() || !specs.iter().all(is_foreign) {
        return None;
    }
    let loaded = specs.iter().any(|s| match s.origin {
        Origin::ThirdParty { module } => module_loaded(model, module),
        _ => false,
    });
    (!loaded).then(|| &specs[0])
}

/// The directives of the run with a verdict of interest, skipping foreign unloaded ones.
fn visits<'a>(cx: &'a Checker<'_>) -> impl Iterator<Item = Visit> + 'a {
    walk(cx).iter().copied().filter(|v| !v.missing_module)
}

/// [`visits`] without the directives the target version lacks (reported once, by
/// `nginx-directive-unavailable-in-version`, as nginx reports them: unknown).
fn visits_in_version<'a>(cx: &'a Checker<'_>) -> impl Iterator<Item = Visit> + 'a {
    visits(cx).filter(|v| v.in_version)
}

// ------------------------------------------------------------------ unknown directive

/// `nginx-unknown-directive`: a name no module defines.
pub struct UnknownDirective;

static UNKNOWN: RuleMeta = RuleMeta {
    id: "nginx-unknown-directive",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "nginx does not know the directive (a typo, or a module that is not loaded)",
    fix: None,
    options: &[],
};

impl Rule for UnknownDirective {
    fn meta(&self) -> &'static RuleMeta {
        &UNKNOWN
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        for v in walk(cx).iter().copied() {
            if v.verdict() != Verdict::Unknown && !v.missing_module {
                continue;
            }
            let d = model.directive(v.id);
            let message = format!("unknown directive \"{}\"", d.name);
            if v.verdict() == Verdict::Unknown {
                let mut diag = Diagnostic::new(
                    UNKNOWN.id,
                    UNKNOWN.severity,
                    d.file,
                    d.name_range(),
                    message,
                );
                if let Some(rest) = d.name.strip_prefix(BOM) {
                    diag = diag.with_help(format!(
                        "the file starts with a UTF-8 byte order mark (BOM), which nginx reads as part of `{rest}`: save the file as UTF-8 without BOM"
                    ));
                } else if let Some(near) = suggest(&d.name) {
                    diag = diag.with_help(format!("did you mean `{near}`?"));
                } else {
                    diag = diag.with_help(
                        "if a module defines it, load the module or declare the name in `[nginx] extra-directives` of gatelint.toml",
                    );
                }
                out.push(diag);
            } else if let Some(spec) = missing_module_of(model, v.specs()) {
                let need = match spec.origin {
                    Origin::ThirdParty { module } => {
                        format!("the third-party module {module}, which must be compiled in or loaded with `load_module`")
                    }
                    Origin::NginxPlus => "NGINX Plus (the commercial nginx)".to_string(),
                    Origin::Platform { os } => format!("an event module built only on {os}"),
                    _ => continue,
                };
                out.push(
                    Diagnostic::new(UNKNOWN.id, Severity::Warning, d.file, d.name_range(), message)
                        .with_help(format!(
                            "`{}` comes from {need}; declare it in `[nginx] extra-directives` of gatelint.toml when your nginx has it",
                            d.name
                        )),
                );
            }
        }
    }
}

// ------------------------------------------------------------------ version

/// `nginx-directive-unavailable-in-version`: a directive the target nginx version lacks.
pub struct UnavailableInVersion;

static VERSION: RuleMeta = RuleMeta {
    id: "nginx-directive-unavailable-in-version",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "the directive was added after, or removed before, the target nginx version",
    fix: None,
    options: &[],
};

/// Why the spec is missing from `version`, or `None` when it is there.
pub fn unavailable_reason(spec: &DirectiveSpec, version: &str) -> Option<String> {
    if is_foreign(spec) || available_in(spec, version) {
        return None;
    }
    Some(match (spec.since, spec.removed) {
        (_, Some(r)) if !available_in_removed(r, version) => {
            format!("`{}` was removed in nginx {r}", spec.name)
        }
        (Some(s), _) => format!("`{}` appeared in nginx {s}", spec.name),
        (None, _) => format!("`{}` is in no nginx release yet", spec.name),
    })
}

/// True when `version` is older than the release `removed`.
fn available_in_removed(removed: &str, version: &str) -> bool {
    let p = |v: &str| -> Vec<u32> { v.split('.').map(|x| x.parse().unwrap_or(0)).collect() };
    p(version) < p(removed)
}

impl Rule for UnavailableInVersion {
    fn meta(&self) -> &'static RuleMeta {
        &VERSION
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        // Without a target version the newest nginx is assumed: only directives nginx
        // has dropped are missing from it.
        let target = cx.config.nginx_version.as_deref();
        let model = &cx.stack.nginx;
        for v in visits(cx) {
            let specs = v.specs();
            if specs.is_empty() {
                continue;
            }
            let reason = match target {
                Some(t) => {
                    if specs.iter().any(|s| available_in(s, t)) {
                        continue;
                    }
                    specs.iter().find_map(|s| unavailable_reason(s, t))
                }
                None => {
                    if specs.iter().any(|s| s.removed.is_none()) {
                        continue;
                    }
                    specs.iter().find_map(|s| {
                        s.removed
                            .map(|r| format!("`{}` was removed in nginx {r}", s.name))
                    })
                }
            };
            let Some(reason) = reason else {
                continue;
            };
            // Read only for the directives reported: most are not.
            let d = model.directive(v.id);
            out.push(
                Diagnostic::new(
                    VERSION.id,
                    VERSION.severity,
                    d.file,
                    d.name_range(),
                    match target {
                        Some(t) => format!("unknown directive \"{}\" (nginx {t})", d.name),
                        None => format!("unknown directive \"{}\" (current nginx)", d.name),
                    },
                )
                .with_help(match target {
                    Some(t) => format!(
                        "{reason}; the target version is {t} (`[nginx] version` or `--nginx-version`)"
                    ),
                    None => format!(
                        "{reason}; set `[nginx] version` or `--nginx-version` when you target an older nginx"
                    ),
                }),
            );
        }
    }
}

/// True when the directive exists in the configured version (or no version is set).
pub fn in_version(config: &Config, name: &str) -> bool {
    in_version_of(config, lookup(name))
}

/// [`in_version`] on the table's entries for the name.
pub fn in_version_of(config: &Config, specs: &[DirectiveSpec]) -> bool {
    config
        .nginx_version
        .as_deref()
        .map_or(true, |v| specs.iter().any(|s| available_in(s, v)))
}

// ------------------------------------------------------------------ not allowed here

/// `nginx-directive-not-allowed-here`: a known directive in a block it does not belong in.
pub struct NotAllowedHere;

static NOT_ALLOWED: RuleMeta = RuleMeta {
    id: "nginx-directive-not-allowed-here",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "the directive is not allowed in the block it stands in",
    fix: None,
    options: &[],
};

/// The contexts a directive is allowed in, as words for the help text.
fn allowed_contexts(name: &str) -> String {
    use crate::model::nginx_directives::*;
    let bits = lookup(name).iter().fold(0, |acc, s| acc | s.contexts);
    let names = [
        (CTX_MAIN, "main"),
        (CTX_EVENTS, "events"),
        (CTX_HTTP, "http"),
        (CTX_HTTP_SERVER, "server"),
        (CTX_HTTP_LOCATION, "location"),
        (CTX_HTTP_UPSTREAM, "upstream"),
        (CTX_HTTP_SERVER_IF, "if in server"),
        (CTX_HTTP_LOCATION_IF, "if in location"),
        (CTX_HTTP_LIMIT_EXCEPT, "limit_except"),
        (CTX_STREAM, "stream"),
        (CTX_STREAM_SERVER, "stream server"),
        (CTX_STREAM_UPSTREAM, "stream upstream"),
        (CTX_MAIL, "mail"),
        (CTX_MAIL_SERVER, "mail server"),
    ];
    names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Rule for NotAllowedHere {
    fn meta(&self) -> &'static RuleMeta {
        &NOT_ALLOWED
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        for v in visits_in_version(cx) {
            if v.verdict() != Verdict::NotAllowedHere {
                continue;
            }
            let d = model.directive(v.id);
            let mut diag = Diagnostic::new(
                NOT_ALLOWED.id,
                NOT_ALLOWED.severity,
                d.file,
                d.name_range(),
                format!("\"{}\" directive is not allowed here", d.name),
            );
            let ctxs = allowed_contexts(&d.name);
            if !ctxs.is_empty() {
                diag = diag.with_help(format!("`{}` belongs in: {ctxs}", d.name));
            }
            out.push(diag);
        }
    }
}

// ------------------------------------------------------------------ block form

/// `nginx-directive-block-form`: `{` after a simple directive, or `;` after a block one.
pub struct BlockForm;

static BLOCK_FORM: RuleMeta = RuleMeta {
    id: "nginx-directive-block-form",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "a simple directive is followed by `{`, or a block directive ends with `;`",
    fix: None,
    options: &[],
};

impl Rule for BlockForm {
    fn meta(&self) -> &'static RuleMeta {
        &BLOCK_FORM
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        for v in visits_in_version(cx) {
            let verdict = v.verdict();
            if !matches!(
                verdict,
                Verdict::NotTerminated(_) | Verdict::NoOpeningBrace(_)
            ) {
                continue;
            }
            // Read only for the directives reported: most are not.
            let d = model.directive(v.id);
            let (message, help) = match verdict {
                Verdict::NotTerminated(_) => (
                    format!("directive \"{}\" is not terminated by \";\"", d.name),
                    "a `;` is missing at the end of this directive, so nginx reads the next `{` as part of it",
                ),
                Verdict::NoOpeningBrace(_) => (
                    format!("directive \"{}\" has no opening \"{{\"", d.name),
                    "this directive opens a block: write `{ … }` after its arguments",
                ),
                _ => continue,
            };
            out.push(
                Diagnostic::new(
                    BLOCK_FORM.id,
                    BLOCK_FORM.severity,
                    d.file,
                    d.name_range(),
                    message,
                )
                .with_help(help),
            );
        }
    }
}

// ------------------------------------------------------------------ argument count

/// `nginx-invalid-argument-count`: a directive with a number of arguments its rule refuses.
pub struct InvalidArgumentCount;

static ARGS: RuleMeta = RuleMeta {
    id: "nginx-invalid-argument-count",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "the directive has a number of arguments nginx does not accept",
    fix: None,
    options: &[],
};

impl Rule for InvalidArgumentCount {
    fn meta(&self) -> &'static RuleMeta {
        &ARGS
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        for v in visits_in_version(cx) {
            let Verdict::InvalidArgCount(spec) = v.verdict() else {
                continue;
            };
            let d = model.directive(v.id);
            out.push(
                Diagnostic::new(
                    ARGS.id,
                    ARGS.severity,
                    d.file,
                    d.name_range(),
                    format!("invalid number of arguments in \"{}\" directive", d.name),
                )
                .with_help(format!(
                    "`{}` takes {}; here it has {}",
                    d.name,
                    describe_args(spec.args),
                    d.args.len()
                )),
            );
        }
    }
}

/// An argument rule in words ("1 or 2 arguments").
pub fn describe_args(rule: u32) -> String {
    use crate::model::nginx_directives::*;
    if rule & ARG_ANY != 0 {
        return "any number of arguments".into();
    }
    if rule & ARG_FLAG != 0 {
        return "one argument, `on` or `off`".into();
    }
    if rule & ARG_1MORE != 0 {
        return "one or more arguments".into();
    }
    if rule & ARG_2MORE != 0 {
        return "two or more arguments".into();
    }
    let counts: Vec<String> = (0..8u32)
        .filter(|n| rule & (1 << n) != 0)
        .map(|n| n.to_string())
        .collect();
    match counts.as_slice() {
        [] => "no arguments".into(),
        [one] if one == "1" => "exactly 1 argument".into(),
        [one] => format!("exactly {one} arguments"),
        many => format!("{} arguments", many.join(" or ")),
    }
}
