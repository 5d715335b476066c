//! Loading the PHP side: PHP-FPM configurations (php-fpm.conf with its includes, and pool
//! files no configuration reached) and the php.ini settings each FPM master runs with.

use super::source::{Reached, StackSource};
use super::Workspace;
use crate::discover::Input;
use crate::model::fpm::{self, FpmConfig, FpmOptions};
use crate::model::php::{PhpIni, Sapi};
use crate::model::stack::{FileProblem, PhpSet, ProblemKind};
use crate::source::{FileId, FileKind, SourceFile, TextRange};
use crate::syntax::ini::{self, Dialect, IniTree};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Load every FPM and php.ini input of the run.
/// `master_is_root`: the FPM masters run as root, so every pool needs `user`.
pub fn load_php_side(
    ws: &mut Workspace,
    source: &StackSource,
    inputs: &[&Input],
    master_is_root: bool,
) {
    let fpm_inputs: Vec<&Input> = inputs
        .iter()
        .copied()
        .filter(|i| i.kind == FileKind::Fpm)
        .collect();
    let ini_inputs: Vec<&Input> = inputs
        .iter()
        .copied()
        .filter(|i| i.kind == FileKind::PhpIni)
        .collect();

    // FPM: configurations with a [global] section (or an include=) first.
    let (roots, pools): (Vec<&Input>, Vec<&Input>) = fpm_inputs
        .iter()
        .partition(|i| is_fpm_root(source, &i.path));
    let mut reached = Reached::default();
    let mut php_loaded = Reached::default();
    for input in roots.iter().chain(pools.iter()) {
        let path = source.map(&input.path);
        if reached.contains(source, &path) {
            continue;
        }
        let text = match source.read_path(&input.path) {
            Ok(t) => t,
            Err(e) => {
                ws.errors.push(super::LoadError::Unreadable {
                    path: input.path.clone(),
                    message: format!("cannot read {}: {e}", input.path.display()),
                });
                continue;
            }
        };
        let mut options = FpmOptions {
            master_is_root,
            ..FpmOptions::default()
        };
        if !has_section(&text) {
            options.initial_pool = Some("www".into());
        }
        if let Some(prefix) = docker_prefix(&path) {
            options.prefix = prefix;
        }
        let root = ws.add_file(path.clone(), text, FileKind::Fpm);
        let cfg = fpm::load_from(root, source, &mut ws.files, &options);
        for (id, tree) in &cfg.trees {
            ws.note_kind(*id, FileKind::Fpm);
            reached.insert(source, ws.files.get(*id).path.clone());
            record_ini_tree(ws, *id, tree, false);
        }
        // The php.ini this FPM master reads sits beside php-fpm.conf (Debian:
        // /etc/php/X.Y/fpm/{php-fpm.conf,php.ini,conf.d}; Docker: /usr/local/etc/php/).
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let php = load_php_ini_near(ws, source, &dir, &mut php_loaded);
        let index = ws.stack.fpm.len();
        ws.stack.fpm_refusals.extend(fpm::startup_refusals(&cfg));
        ws.stack.fpm.push(cfg);
        if let Some(mut set) = php {
            set.fpm = Some(index);
            ws.stack.php.push(set);
        }
    }
    // php.ini files no FPM configuration claimed: each with its conf.d, on its own.
    for input in ini_inputs {
        let path = source.map(&input.path);
        if php_loaded.contains(source, &path) {
            continue;
        }
        let is_main = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("php.ini"));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if is_main {
            let sapi = sapi_of(&path);
            let set = load_php_ini(
                ws,
                source,
                Some(&path),
                &dir.join("conf.d"),
                sapi,
                &mut php_loaded,
            );
            ws.stack.php.push(set);
        } else {
            // A conf.d file (or a .user.ini) alone.
            let sapi = sapi_of(&path);
            let mut ini = PhpIni::new(sapi);
            if let Ok(text) = source.read_path(&input.path) {
                let id = ws.add_file(path.clone(), text, FileKind::PhpIni);
                ini.add_file(id, &ws.files, &BTreeMap::new());
                record_php_ini(ws, id);
                php_loaded.insert(source, path.clone());
                ws.stack.php.push(PhpSet {
                    ini,
                    files: vec![id],
                    fpm: None,
                });
            }
        }
    }
}

/// The SAPI a php.ini path belongs to: `…/cli/php.ini` is the CLI's, anything else FPM's.
fn sapi_of(path: &Path) -> Sapi {
    if path.components().any(|c| c.as_os_str() == "cli") {
        Sapi::Cli
    } else {
        Sapi::Fpm
    }
}

/// The official Docker images build PHP with prefix /usr/local: a php-fpm.conf under
/// `usr/local/etc` resolves relative includes there.
fn docker_prefix(path: &Path) -> Option<PathBuf> {
    let s = path.to_string_lossy();
    s.contains("usr/local/etc/")
        .then(|| PathBuf::from("/usr/local"))
}

/// True when an FPM input has a `[global]` section or an `include=` line.
fn is_fpm_root(source: &StackSource, path: &Path) -> bool {
    let Ok(text) = source.read_path(path) else {
        return false;
    };
    let t = String::from_utf8_lossy(&text);
    t.lines().any(|l| {
        let l = l.trim();
        l.eq_ignore_ascii_case("[global]")
            || l.to_ascii_lowercase().starts_with("include") && l[7..].trim_start().starts_with('=')
    })
}

fn has_section(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n')
        .any(|l| l.trim_ascii_start().starts_with(b"["))
}

/// The php.ini and conf.d near an FPM configuration folder, if there is a php.ini.
fn load_php_ini_near(
    ws: &mut Workspace,
    source: &StackSource,
    dir: &Path,
    loaded: &mut Reached,
) -> Option<PhpSet> {
    for candidate in [dir.to_path_buf(), dir.join("php")] {
        let ini = candidate.join("php.ini");
        let mapped = source.map(&ini);
        if source.read_path(&ini).is_ok() {
            return Some(load_php_ini(
                ws,
                source,
                Some(&mapped),
                &candidate.join("conf.d"),
                Sapi::Fpm,
                loaded,
            ));
        }
    }
    None
}

/// Load a php.ini and the `.ini` files of its scan dir.
fn load_php_ini(
    ws: &mut Workspace,
    source: &StackSource,
    php_ini: Option<&Path>,
    scan_dir: &Path,
    sapi: Sapi,
    loaded: &mut Reached,
) -> PhpSet {
    let mut paths: Vec<PathBuf> = php_ini.map(Path::to_path_buf).into_iter().collect();
    let pattern = scan_dir.join("*.ini");
    let scan = source.glob_paths(&pattern).unwrap_or_default();
    paths.extend(crate::model::php::scan_dir_order(scan));
    let mut ini = PhpIni::new(sapi);
    let mut ids = Vec::new();
    for p in paths {
        let Ok(text) = source.read_path(&p) else {
            continue;
        };
        let mapped = source.map(&p);
        loaded.insert(source, mapped.clone());
        let id = ws.add_file(mapped, text, FileKind::PhpIni);
        ini.add_file(id, &ws.files, &BTreeMap::new());
        record_php_ini(ws, id);
        ids.push(id);
    }
    PhpSet {
        ini,
        files: ids,
        fpm: None,
    }
}

/// Parse a php.ini file once more for its syntax errors and suppression comments.
fn record_php_ini(ws: &mut Workspace, id: FileId) {
    let tree = ini::parse(&ws.files.get(id).text, Dialect::PhpIni);
    record_ini_tree(ws, id, &tree, true);
}

/// Record the syntax errors (php.ini only: FPM reports its own as refusals) and the
/// suppression comments of an ini tree.
fn record_ini_tree(ws: &mut Workspace, id: FileId, tree: &IniTree, report_syntax: bool) {
    if !tree.errors.is_empty() {
        let first_time = ws.broken.insert(id);
        if first_time && report_syntax {
            let text = ws.files.get(id).text.clone();
            for e in &tree.errors {
                ws.stack.problems.push(FileProblem {
                    kind: ProblemKind::Syntax,
                    file: id,
                    range: e.error.range,
                    message: e.error.message.clone(),
                    note: Some(tree.consequence(e, &text)),
                });
            }
        }
    }
    let mut comments = Vec::new();
    let mut items = Vec::new();
    let text = &ws.files.get(id).text;
    for node in &tree.nodes {
        match &node.kind {
            crate::syntax::ini::NodeKind::Entry(_) | crate::syntax::ini::NodeKind::Section(_) => {
                items.push(node.range)
            }
            crate::syntax::ini::NodeKind::Trivia => {
                // Comment lines inside blank-and-comment runs.
                let mut at = node.range.start as usize;
                for line in text[node.range.as_range()].split_inclusive(|b| *b == b'\n') {
                    let lead = line
                        .iter()
                        .take_while(|b| matches!(b, b' ' | b'\t'))
                        .count();
                    if line.get(lead) == Some(&b';') {
                        let end = line.iter().rposition(|b| !matches!(b, b'\n' | b'\r'));
                        let end = end.map_or(lead + 1, |e| e + 1);
                        comments.push(TextRange::from_usize(at + lead, at + end));
                    }
                    at += line.len();
                }
            }
            _ => {}
        }
        if let Some(c) = node.comment {
            if !comments.contains(&c) {
                comments.push(c);
            }
        }
    }
    if !comments.is_empty() {
        ws.record_suppressions(id, &comments, &items);
    }
}

/// Whether an ini text of this kind parses without a syntax error.
pub fn parses(kind: FileKind, file: &SourceFile) -> bool {
    let dialect = match kind {
        FileKind::Fpm => Dialect::Fpm,
        _ => Dialect::PhpIni,
    };
    ini::parse(&file.text, dialect).errors.is_empty()
}

/// The FPM configurations, for the cross-file rules: every pool with its configuration.
pub fn all_pools(configs: &[FpmConfig]) -> impl Iterator<Item = (usize, &fpm::Pool)> {
    configs
        .iter()
        .enumerate()
        .flat_map(|(i, c)| c.pools.iter().map(move |p| (i, p)))
}
