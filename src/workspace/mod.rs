//! The workspace of one run: every file read, the stack model built from them, and the
//! problems met on the way (unreadable inputs, syntax errors, bad includes).
//!
//! [`Workspace::load`] turns the discovered inputs into the model: nginx roots with their
//! includes, fragments no root reached, PHP-FPM configurations, php.ini files. The fix loop
//! loads again from the fixed texts ([`StackSource::overlay`]) to lint them.

pub mod nginx_load;
pub mod php_load;
pub mod source;

use crate::discover::Input;
use crate::model::stack::{FileProblem, ProblemKind, Stack};
use crate::source::{FileId, FileKind, Files, SourceFile, TextRange};
use crate::syntax::nginx::NginxTree;
use source::StackSource;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// An input that could not be read, or not checked at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read.
    Unreadable {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The configuration is larger than gatelint models: it was not checked.
    TooLarge {
        /// The root file.
        path: PathBuf,
        /// Which limit, and by how much.
        message: String,
    },
}

impl LoadError {
    /// The message for the error stream.
    pub fn message(&self) -> &str {
        match self {
            LoadError::Unreadable { message, .. } | LoadError::TooLarge { message, .. } => message,
        }
    }
}

/// What to load: the inputs and how to read them.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The discovered inputs.
    pub inputs: Vec<Input>,
    /// The folder standing for `/` (see [`StackSource`]).
    pub root: Option<PathBuf>,
    /// The nginx prefix for relative includes (default: each root file's folder).
    pub prefix: Option<PathBuf>,
    /// Where the folder the user named sits under `root` (see [`source::Anchor`]).
    pub anchor: Option<source::Anchor>,
    /// The deployment profile whose stock files stand in for those the tree lacks.
    pub profile: Option<&'static crate::profile::Profile>,
    /// True when the inputs are the machine's own folders (no stock file stands in).
    pub live: bool,
    /// False when the PHP-FPM masters run as another user than root (`[host] fpm-user`).
    pub fpm_master_not_root: bool,
}

impl Plan {
    /// The file source this plan reads through: its root, anchor and profile, nothing in
    /// memory.
    pub fn source(&self) -> StackSource {
        let mut s = StackSource::new(self.root.clone());
        s.anchor = self.anchor.clone();
        s.profile = self.profile;
        s.live = self.live;
        s
    }
}

/// Every file of one run, the stack model, and what went wrong while loading.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The folder standing for `/`.
    pub root: Option<PathBuf>,
    /// Every file read.
    pub files: Files,
    /// The kind of each file, in the order read.
    pub kinds: Vec<(FileId, FileKind)>,
    /// The joined model.
    pub stack: Stack,
    /// Inputs that could not be read or checked.
    pub errors: Vec<LoadError>,
    /// Files with at least one syntax error (never written by `--fix`).
    pub broken: HashSet<FileId>,
    /// Stock files of the profile read in place of files the tree lacks, with the path
    /// of each on the machine: never reported on, never written.
    pub stock: Vec<(FileId, &'static str)>,
}

impl Workspace {
    /// Load every input of `plan` through `source`.
    pub fn load(plan: &Plan, source: &mut StackSource) -> Workspace {
        let mut ws = Workspace {
            root: plan.root.clone(),
            ..Workspace::default()
        };
        for input in &plan.inputs {
            if let Some(text) = &input.text {
                let p = source.map(&input.path);
                source.overlay.entry(p).or_insert_with(|| text.clone());
            }
        }
        // nginx: roots first (a file with a top-level events/http/stream/mail block or
        // named nginx.conf), then the fragments no root reached.
        let nginx: Vec<&Input> = plan
            .inputs
            .iter()
            .filter(|i| i.kind == FileKind::Nginx)
            .collect();
        let mut reached = source::Reached::default();
        let (roots, fragments): (Vec<&Input>, Vec<&Input>) =
            nginx.iter().partition(|i| is_nginx_root(source, &i.path));
        for input in roots {
            let display = source.map(&input.path);
            if reached.contains(source, &display) {
                continue;
            }
            let ids = nginx_load::load_root(&mut ws, source, &input.path, plan.prefix.as_deref());
            reached.reserve(ids.len());
            for id in ids {
                reached.insert(source, ws.files.get(id).path.clone());
            }
        }
        for input in fragments {
            let display = source.map(&input.path);
            if reached.contains(source, &display) {
                continue;
            }
            let ids =
                nginx_load::load_fragment(&mut ws, source, &input.path, plan.prefix.as_deref());
            for id in ids {
                reached.insert(source, ws.files.get(id).path.clone());
            }
        }
        let php: Vec<&Input> = plan
            .inputs
            .iter()
            .filter(|i| i.kind != FileKind::Nginx)
            .collect();
        php_load::load_php_side(&mut ws, source, &php, !plan.fpm_master_not_root);
        for (path, stock) in source.stock_used() {
            if let Some(id) = ws.files.find(&path) {
                ws.stock.push((id, stock));
            }
        }
        ws
    }

    /// True when `file` is a stock file of the profile, not one of the tree's.
    pub fn is_stock(&self, file: FileId) -> bool {
        self.stock.iter().any(|(f, _)| *f == file)
    }

    /// Note the kind of a file another loader added to the store.
    pub fn note_kind(&mut self, file: FileId, kind: FileKind) {
        if !self.kinds.iter().any(|(f, _)| *f == file) {
            self.kinds.push((file, kind));
        }
    }

    /// Add a file (or find it when it was read already) and return its id.
    pub fn add_file(&mut self, path: PathBuf, text: Vec<u8>, kind: FileKind) -> FileId {
        let (id, added) = self.files.find_or_add(SourceFile::new(path, text));
        if added {
            self.kinds.push((id, kind));
        }
        id
    }

    /// Record the syntax errors of an nginx file.
    pub fn record_nginx_syntax(&mut self, file: FileId, tree: &NginxTree) {
        if tree.errors.is_empty() {
            return;
        }
        if !self.broken.insert(file) {
            return;
        }
        for e in &tree.errors {
            self.stack.problems.push(FileProblem {
                kind: ProblemKind::Syntax,
                file,
                range: e.range,
                message: e.message.clone(),
                note: None,
            });
        }
    }

    /// Record the suppression comments of a file, once.
    pub fn record_suppressions(
        &mut self,
        file: FileId,
        comments: &[TextRange],
        items: &[TextRange],
    ) {
        if self.stack.suppressions.iter().any(|s| s.file == file)
            || self.stack.bad_suppressions.iter().any(|s| s.0 == file)
        {
            return;
        }
        let text = &self.files.get(file).text;
        let (found, bad) = crate::suppress::find_suppressions(file, text, comments, items);
        self.stack.suppressions.extend(found);
        self.stack
            .bad_suppressions
            .extend(bad.into_iter().map(|(r, m)| (file, r, m)));
    }

    /// Record an include or load problem at a directive.
    pub fn push_load_problem(&mut self, file: FileId, range: TextRange, message: String) {
        let p = FileProblem {
            kind: ProblemKind::Include,
            file,
            range,
            message,
            note: None,
        };
        if !self.stack.problems.contains(&p) {
            self.stack.problems.push(p);
        }
    }

    /// The kind of a file of this workspace.
    pub fn kind_of(&self, file: FileId) -> Option<FileKind> {
        self.kinds.iter().find(|(f, _)| *f == file).map(|(_, k)| *k)
    }
}

/// True when an nginx input is a main file rather than a fragment: named `nginx.conf`, or
/// holding a top-level `events`, `http`, `stream` or `mail` block.
///
/// A file named `nginx.conf` whose top level holds `server`, `upstream` or `location` is a
/// fragment all the same: packages ship vhosts under that name (`/etc/mailman3/nginx.conf`).
fn is_nginx_root(source: &mut StackSource, path: &Path) -> bool {
    let Ok(text) = crate::syntax::nginx::FileSource::read(source, path) else {
        return true;
    };
    let tree = crate::syntax::nginx::parse(&text);
    let mut fragment = false;
    for d in tree.roots(&text) {
        if ["events", "http", "stream", "mail"].iter().any(|n| d.is(n)) {
            return true;
        }
        fragment |= ["server", "upstream", "location"].iter().any(|n| d.is(n));
    }
    path.file_name().is_some_and(|n| n == "nginx.conf") && !fragment
}

/// Run every enabled rule over the workspace and drop the findings that suppression
/// comments cover.
pub fn lint(ws: &Workspace, config: &crate::config::Config) -> Vec<crate::diagnostic::Diagnostic> {
    let cx = crate::rules::Checker::new(&ws.files, &ws.stack, config);
    let mut diags = crate::rules::run_rules(&cx);
    // The rules' shared tables (the nginx -t walk, the pass sites, …) are not needed once
    // the findings are made.
    crate::cli::release(cx);
    // Findings in a stock file are the package's, not the tree's: the tree cannot fix them.
    if !ws.stock.is_empty() {
        diags.retain(|d| !ws.is_stock(d.file));
    }
    diags.retain(|d| {
        d.rule == "invalid-suppression"
            || !ws
                .stack
                .suppressions
                .iter()
                .any(|s| s.covers(d.file, d.range, d.rule))
    });
    diags
}

/// Whether a PHP-side file parses without a syntax error (for the fix loop).
pub fn parses(kind: FileKind, file: &SourceFile) -> bool {
    match kind {
        FileKind::Nginx => nginx_load::parses(file),
        FileKind::Fpm | FileKind::PhpIni => php_load::parses(kind, file),
    }
}

/// Apply the fixes at or above `level` to a fixpoint: each round loads `plan` again from
/// the fixed texts (so cross-file rules see them) and lints with `config`. Files that had
/// a syntax error are never changed; `ws.files` holds the final texts afterwards.
pub fn fix(
    ws: &mut Workspace,
    plan: &Plan,
    config: &crate::config::Config,
    level: crate::diagnostic::Applicability,
) -> crate::fix::FixOutcome {
    fix_within(ws, plan, config, level, None)
}

/// [`fix`], changing no file but `only` when it is given (an editor's buffer: the files
/// around it are read, never changed, so a fix that needs them is not applied).
pub fn fix_within(
    ws: &mut Workspace,
    plan: &Plan,
    config: &crate::config::Config,
    level: crate::diagnostic::Applicability,
    only: Option<&Path>,
) -> crate::fix::FixOutcome {
    let mut relint = |files: &Files| -> Vec<crate::diagnostic::Diagnostic> {
        let mut src = plan.source();
        for (_, f) in files.iter() {
            src.overlay.insert(f.path.clone(), f.text.clone());
        }
        let again = Workspace::load(plan, &mut src);
        remap(lint(&again, config), &again.files, files)
    };
    let kinds: std::collections::HashMap<PathBuf, FileKind> = ws
        .kinds
        .iter()
        .map(|(id, k)| (ws.files.get(*id).path.clone(), *k))
        .collect();
    // Neither a file with a syntax error nor a stock file is ever written.
    let broken: HashSet<PathBuf> = ws
        .broken
        .iter()
        .copied()
        .chain(ws.stock.iter().map(|(id, _)| *id))
        .map(|id| ws.files.get(id).path.clone())
        .collect();
    let only = only.map(Path::to_path_buf);
    let reparses = move |f: &SourceFile| -> bool {
        !matches!(&only, Some(o) if *o != f.path)
            && !broken.contains(&f.path)
            && kinds.get(&f.path).is_some_and(|k| parses(*k, f))
    };
    crate::fix::fix_to_fixpoint(
        &mut ws.files,
        level,
        crate::fix::DEFAULT_MAX_ROUNDS,
        &mut relint,
        &reparses,
    )
}

/// Diagnostics of a re-loaded workspace, with the file ids of the original store; those
/// in files the original does not have are dropped.
fn remap(
    diags: Vec<crate::diagnostic::Diagnostic>,
    from: &Files,
    to: &Files,
) -> Vec<crate::diagnostic::Diagnostic> {
    let map = |id| to.find(&from.get(id).path);
    diags
        .into_iter()
        .filter_map(|mut d| {
            d.file = map(d.file)?;
            for r in &mut d.related {
                r.file = map(r.file)?;
            }
            if let Some(fix) = &mut d.fix {
                for e in &mut fix.edits {
                    e.file = map(e.file)?;
                }
            }
            Some(d)
        })
        .collect()
}
