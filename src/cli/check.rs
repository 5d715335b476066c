//! `gatelint check`: discover, load, lint, fix, print.

use super::check_args::{CheckArgs, FailOn};
use super::{KindArg, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};
use crate::config::{Config, ConfigError};
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::discover::{self, Input};
use crate::output::{
    escape_controls, write_report, OutputFormat, Report, RuleMeta, RunContext, StockUse,
};
use crate::source::{FileKind, SourceFile};
use crate::workspace::source::{root_of, root_of_physical};
use crate::workspace::{lint, Plan, Workspace};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Run `gatelint check`, reading `-` from `stdin`.
pub fn run(
    args: &CheckArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
    color: bool,
) -> i32 {
    let format = args.format.unwrap_or(OutputFormat::Human);
    let mut config = match load_config(args) {
        Ok(c) => c,
        Err((e, text)) => {
            let _ = writeln!(err, "error: {}", e.render(text.as_bytes()));
            return EXIT_FAILURE;
        }
    };
    if let Err(msg) = apply_cli(args, &mut config) {
        let _ = writeln!(err, "error: {msg}");
        return EXIT_FAILURE;
    }
    let forced = args.kind.map(kind_of);
    if let Some(size) = &args.max_file_size {
        match crate::config::parse_size(size) {
            Some(n) => crate::source::set_max_file_size(n),
            None => {
                let _ = writeln!(
                    err,
                    "error: invalid --max-file-size \"{size}\", expected bytes or a size such as 64M"
                );
                return EXIT_FAILURE;
            }
        }
    }

    // Inputs: paths from disk, or stdin.
    let mut failed = false;
    let mut plan = Plan {
        prefix: args.prefix.clone(),
        ..Plan::default()
    };
    let mut only: Option<PathBuf> = None;
    let uses_stdin = args.paths.iter().any(|p| p == Path::new("-"));
    if uses_stdin {
        let mut buf = Vec::new();
        if let Err(e) = stdin.read_to_end(&mut buf) {
            let _ = writeln!(err, "error: cannot read stdin: {e}");
            return EXIT_FAILURE;
        }
        if discover::is_nginx_t_output(&buf) && args.stdin_filename.is_none() {
            if args.fix {
                let _ = writeln!(
                    err,
                    "error: --fix does not write files read from `nginx -T` output; use --diff and apply the patch on the machine"
                );
                return EXIT_FAILURE;
            }
            for (path, text) in discover::split_nginx_t(&buf) {
                plan.inputs.push(Input {
                    path,
                    kind: forced.unwrap_or(FileKind::Nginx),
                    text: Some(text),
                });
            }
        } else {
            let path = args
                .stdin_filename
                .clone()
                .unwrap_or_else(|| PathBuf::from("<stdin>"));
            let kind = forced
                .or_else(|| discover::classify_by_name(&path))
                .or_else(|| discover::classify_by_content(&buf))
                .unwrap_or(FileKind::Nginx);
            if args.stdin_filename.is_some() {
                // The rest of the tree the buffer belongs to is read from disk.
                only = Some(path.clone());
                plan.root = root_of(&path);
                let tree = plan
                    .root
                    .clone()
                    .or_else(|| path.parent().map(Path::to_path_buf))
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from("."));
                let (inputs, _) = discover::discover(&[tree], forced);
                plan.inputs
                    .extend(inputs.into_iter().filter(|i| i.path != path));
            }
            plan.inputs.push(Input {
                path,
                kind,
                text: Some(buf),
            });
        }
    }
    let disk: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| *p != Path::new("-"))
        .cloned()
        .collect();
    if !disk.is_empty() {
        if plan.root.is_none() {
            plan.root = disk.iter().find_map(|p| root_of(p));
        }
        if plan.root.is_none() {
            if let Some((root, anchor)) = disk.iter().find_map(|p| root_of_physical(p)) {
                plan.root = Some(root);
                plan.anchor = Some(anchor);
            }
        }
        let (inputs, errors) = discover::discover(&disk, forced);
        for e in errors {
            let _ = writeln!(err, "error: {}", escape_controls(&e.message));
            failed = true;
        }
        plan.inputs.extend(inputs);
    }

    if plan.inputs.is_empty() {
        // Nothing was checked: never a success, never a report that could read as one.
        if !failed {
            let names: Vec<String> = disk.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(
                err,
                "error: no configuration files found in {} (name a file with --kind to lint it anyway)",
                names.join(", ")
            );
        }
        return EXIT_FAILURE;
    }
    plan.fpm_master_not_root = config.host.fpm_user.as_deref().is_some_and(|u| u != "root");
    let chosen = choose_profile(args, &config, &plan, &disk);
    plan.profile = chosen.and_then(|(p, _)| p);
    plan.live = plan.root.is_none() && !disk.is_empty() && disk.iter().all(|p| is_live(p));
    let mut source = plan.source();
    let mut ws = Workspace::load(&plan, &mut source);
    for e in &ws.errors {
        let _ = writeln!(err, "error: {}", escape_controls(e.message()));
        failed = true;
    }

    let level = if args.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let mut diagnostics;
    if args.fix || args.diff {
        // A buffer from stdin is the only file such a run may change: it is printed, and
        // nothing is written to disk.
        let stdin_path = only.clone().unwrap_or_else(|| PathBuf::from("<stdin>"));
        let within = (uses_stdin && args.fix).then_some(stdin_path.as_path());
        let outcome = crate::workspace::fix_within(&mut ws, &plan, &config, level, within);
        for e in &outcome.errors {
            let _ = writeln!(err, "{}", e.describe(&ws.files));
        }
        if args.diff {
            let cwd = std::env::current_dir().ok();
            let diff = outcome.diff(&ws.files, cwd.as_deref());
            let _ = out.write_all(&diff);
            // The findings go to stderr so stdout stays a patch.
            diagnostics = outcome.diagnostics.clone();
            let summary = format!(
                "{} fixed, {} remaining\n",
                outcome.applied,
                diagnostics.len()
            );
            let _ = err.write_all(summary.as_bytes());
            let code = if failed {
                EXIT_FAILURE
            } else if !diff.is_empty() || fails(&diagnostics, &config) {
                EXIT_FINDINGS
            } else {
                EXIT_OK
            };
            return code;
        }
        if uses_stdin {
            // Nothing is written: the buffer's fixed text goes to stdout (what an editor
            // replaces its buffer with), the findings to stderr.
            if let Some(id) = ws.files.find(&stdin_path) {
                let _ = out.write_all(&ws.files.get(id).text);
            }
            let rules: Vec<RuleMeta> = crate::rules::registry().iter().map(|r| *r.meta()).collect();
            let report = Report {
                files: &ws.files,
                file_kinds: &ws.kinds,
                diagnostics: &outcome.diagnostics,
                rules: &rules,
                context: None,
            };
            let _ = write_report(OutputFormat::Short, &report, err, false);
            return if failed {
                EXIT_FAILURE
            } else if fails(&outcome.diagnostics, &config) {
                EXIT_FINDINGS
            } else {
                EXIT_OK
            };
        }
        if let Err(errors) = outcome.write(&ws.files) {
            for (file, e) in errors {
                let _ = writeln!(
                    err,
                    "error: cannot write {}: {e}",
                    escape_controls(&ws.files.get(file).display_path())
                );
            }
            let _ = writeln!(
                err,
                "error: no file was changed: the fixes are written all together or not at all"
            );
            // The report is of the files as they still are.
            for c in &outcome.changed {
                ws.files.set_text(c.file, c.original.clone());
            }
            failed = true;
            diagnostics = lint(&ws, &config);
        } else {
            if outcome.applied > 0 {
                let _ = writeln!(
                    err,
                    "fixed {} finding{} in {} file{}",
                    outcome.applied,
                    if outcome.applied == 1 { "" } else { "s" },
                    outcome.changed.len(),
                    if outcome.changed.len() == 1 { "" } else { "s" }
                );
            }
            diagnostics = outcome.diagnostics;
        }
    } else {
        diagnostics = lint(&ws, &config);
    }
    if let Some(only) = &only {
        diagnostics.retain(|d| &ws.files.get(d.file).path == only);
    }

    let rules: Vec<RuleMeta> = crate::rules::registry().iter().map(|r| *r.meta()).collect();
    let unread = ws.errors.len() + usize::from(failed && ws.errors.is_empty());
    let context = RunContext {
        unread,
        profile: plan.profile.map(|p| p.name),
        profile_chosen: chosen.map(|(_, c)| c),
        root: plan.root.as_ref().map(|r| r.display().to_string()),
        stock_files: ws
            .stock
            .iter()
            .map(|(id, stock)| StockUse {
                path: ws.files.get(*id).display_path(),
                stock,
            })
            .collect(),
    };
    let report = Report {
        files: &ws.files,
        file_kinds: &ws.kinds,
        diagnostics: &diagnostics,
        rules: &rules,
        context: Some(&context),
    };
    // One write for the whole report instead of one per line (stdout is line-buffered
    // and a large site's report has thousands of lines); the flush is part of writing it.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
    let written =
        write_report(format, &report, &mut buffered, color).and_then(|()| buffered.flush());
    drop(buffered);
    if let Err(e) = written {
        let _ = writeln!(err, "error: cannot write the report: {e}");
        return EXIT_FAILURE;
    }
    let code = if failed {
        EXIT_FAILURE
    } else if fails(&diagnostics, &config) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    super::release(ws);
    code
}

/// The run's profile and how it was chosen: `--profile`, then `gatelint.toml`, then what
/// the tree shows, then [`crate::profile::DEFAULT`]. `Some((None, Named))` is `none`;
/// `None` when the run reads only the live machine (no profile applies there).
fn choose_profile(
    args: &CheckArgs,
    config: &Config,
    plan: &Plan,
    disk: &[PathBuf],
) -> Option<(
    Option<&'static crate::profile::Profile>,
    crate::profile::Chosen,
)> {
    use crate::profile::{by_name, detect, Chosen, DEFAULT};
    if let Some(name) = args.profile.as_ref().or(config.profile.as_ref()) {
        return Some((by_name(name), Chosen::Named));
    }
    if plan.root.is_none() && !disk.is_empty() && disk.iter().all(|p| is_live(p)) {
        return None;
    }
    let tops = plan.root.iter().chain(disk.iter().filter(|p| p.is_dir()));
    for top in tops {
        if let Some(p) = detect(top) {
            return Some((Some(p), Chosen::Detected));
        }
    }
    Some((by_name(DEFAULT), Chosen::Default))
}

/// True when `path` is a folder or file of the machine's own configuration (`/etc/…`,
/// `/usr/local/etc/…`), not a copy of it.
fn is_live(path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| {
        p.starts_with("/etc") || p.starts_with("/usr/local/etc") || p.starts_with("/opt")
    })
}

/// True when a finding is at or above the failure threshold.
fn fails(diagnostics: &[Diagnostic], config: &Config) -> bool {
    let threshold = config.fail_on.unwrap_or(Severity::Warning);
    diagnostics.iter().any(|d| d.severity >= threshold)
}

fn kind_of(k: KindArg) -> FileKind {
    match k {
        KindArg::Nginx => FileKind::Nginx,
        KindArg::Fpm => FileKind::Fpm,
        KindArg::PhpIni => FileKind::PhpIni,
    }
}

/// The settings file named with --config, or found walking up from the first input.
fn load_config(args: &CheckArgs) -> Result<Config, (ConfigError, String)> {
    let path = match &args.config {
        Some(p) => Some(p.clone()),
        None => args
            .stdin_filename
            .iter()
            .chain(args.paths.iter().filter(|p| *p != Path::new("-")))
            .find_map(|p| Config::find_for(p)),
    };
    match path {
        None => Ok(Config::default()),
        Some(p) => {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            Config::load(&p).map(|(c, _)| c).map_err(|e| (e, text))
        }
    }
}

/// Lay the command line over the config file.
fn apply_cli(args: &CheckArgs, config: &mut Config) -> Result<(), String> {
    if !args.select.is_empty() {
        config.select = Some(args.select.clone());
    }
    config.ignore.extend(args.ignore.iter().cloned());
    let known: Vec<&str> = crate::rules::registry()
        .iter()
        .map(|r| r.meta().id)
        .collect();
    for id in config
        .select
        .iter()
        .flatten()
        .chain(config.ignore.iter())
        .chain(config.severity.keys())
        .chain(config.rules.keys())
    {
        if id != "all" && !known.contains(&id.as_str()) {
            let hint = super::rules::closest_rule(id)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            return Err(format!("unknown rule `{id}`{hint}"));
        }
    }
    // Every `[rules.<id>]` key must be an option the rule declares.
    for (id, options) in &config.rules {
        let Some(rule) = crate::rules::find(id) else {
            continue;
        };
        let declared = rule.meta().options;
        for (key, (_, range)) in &options.values {
            if !declared.iter().any(|o| o.name == key) {
                let names: Vec<&str> = declared.iter().map(|o| o.name).collect();
                let place = config
                    .path
                    .as_ref()
                    .and_then(|p| std::fs::read(p).ok().map(|t| (p.clone(), t)))
                    .map(|(p, t)| {
                        let lc = SourceFile::new(p.clone(), t).line_col(range.start);
                        format!("{}:{}:{}: ", p.display(), lc.line, lc.column)
                    })
                    .unwrap_or_default();
                return Err(format!(
                    "{place}unknown option `{key}` for rule `{id}`{}",
                    if names.is_empty() {
                        " (it has no options)".to_string()
                    } else {
                        format!(" (expected one of: {})", names.join(", "))
                    }
                ));
            }
        }
    }
    if let Some(f) = args.fail_on {
        config.fail_on = Some(match f {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        });
    }
    if let Some(m) = &args.host_memory {
        config.host.memory =
            Some(crate::config::parse_size(m).ok_or_else(|| {
                format!("invalid --host-memory `{m}`, expected a size such as 8G")
            })?);
    }
    if let Some(v) = &args.nginx_version {
        config.nginx_version = Some(v.clone());
    }
    if let Some(c) = args.host_cpus {
        config.host.cpus = Some(c);
    }
    Ok(())
}
