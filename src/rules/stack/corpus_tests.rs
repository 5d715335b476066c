//! The FPM, php.ini and cross-file rules over the real configurations of the corpus
//! (`../shared/corpus`, kinds `fpm` and `php-ini` of MANIFEST.tsv), each file linted on its
//! own: the findings of this crate's FPM, PHP and stack packs are a snapshot
//! (`testdata/corpus-findings/php-findings.tsv`; `GATELINT_UPDATE=1` rewrites it), and the
//! stock, working configurations raise no error.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::Input;
use crate::source::FileKind;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!("skipping the corpus test: {} is absent", dir.display());
        None
    }
}

/// The ids of the rules this test covers: the FPM, PHP and stack packs.
fn our_rules() -> BTreeSet<&'static str> {
    crate::rules::fpm::RULES
        .iter()
        .chain(crate::rules::php::RULES)
        .chain(crate::rules::stack::RULES)
        .map(|r| r.meta().id)
        .collect()
}

/// Lint one corpus file alone; the findings in files under the corpus, as
/// `(relative path, line, rule, severity)`.
fn lint_one(
    corpus: &Path,
    rel: &str,
    kind: FileKind,
) -> Vec<(String, u32, &'static str, Severity)> {
    let plan = Plan {
        inputs: vec![Input {
            path: corpus.join(rel),
            kind,
            text: None,
        }],
        root: None,
        prefix: None,
        ..Plan::default()
    };
    let mut source = StackSource::new(None);
    redirect_includes(&mut source, &corpus.join(rel));
    let ws = Workspace::load(&plan, &mut source);
    let ours = our_rules();
    let canon = corpus
        .canonicalize()
        .unwrap_or_else(|_| corpus.to_path_buf());
    let found: Vec<Diagnostic> = lint(&ws, &Config::default())
        .into_iter()
        .filter(|d| ours.contains(d.rule))
        .collect();
    let mut out = Vec::new();
    for d in found {
        let f = ws.files.get(d.file);
        let path = f.path.canonicalize().unwrap_or_else(|_| f.path.clone());
        let Ok(rel) = path.strip_prefix(&canon) else {
            continue; // a file of this machine reached by an absolute include
        };
        let line = f.line_col(d.range.start).line;
        out.push((rel.display().to_string(), line, d.rule, d.severity));
    }
    out
}

/// Make the test independent of the machine: an absolute `include=` pattern such as
/// `/etc/php/8.2/fpm/pool.d/*.conf` is served from the folder of the same name beside the
/// linted file (as the corpus notes say php-fpm -t was run), laid over whatever the
/// machine has at that path.
fn redirect_includes(source: &mut StackSource, file: &Path) {
    let Ok(text) = std::fs::read_to_string(file) else {
        return;
    };
    let Some(dir) = file.parent() else { return };
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("include") {
            continue;
        }
        let pattern = Path::new(value.trim());
        let (Some(parent), Some(file_pat)) = (pattern.parent(), pattern.file_name()) else {
            continue;
        };
        if !pattern.is_absolute() {
            continue;
        }
        let Some(name) = parent.file_name() else {
            continue;
        };
        let sibling = dir.join(name);
        let Ok(pat) = glob::Pattern::new(&file_pat.to_string_lossy()) else {
            continue;
        };
        let Ok(entries) = std::fs::read_dir(&sibling) else {
            continue;
        };
        for e in entries.flatten() {
            let n = e.file_name();
            if pat.matches(&n.to_string_lossy()) {
                if let Ok(t) = std::fs::read(e.path()) {
                    source.overlay.insert(parent.join(&n), t);
                }
            }
        }
    }
}

fn manifest(corpus: &Path) -> Vec<(String, FileKind)> {
    let text = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let path = cols.next()?;
            let kind = match cols.next()? {
                "fpm" => FileKind::Fpm,
                "php-ini" => FileKind::PhpIni,
                _ => return None,
            };
            Some((path.to_string(), kind))
        })
        .collect()
}

#[test]
fn corpus_findings_match_the_snapshot() {
    let Some(corpus) = corpus() else { return };
    let files = manifest(&corpus);
    assert!(
        files.len() > 100,
        "the manifest lists {} fpm/php-ini files",
        files.len()
    );
    let mut rows = BTreeSet::new();
    for (rel, kind) in &files {
        for (path, line, rule, sev) in lint_one(&corpus, rel, *kind) {
            rows.insert(format!("{rule}\t{path}\t{line}\t{sev}"));
        }
    }
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *by_rule
            .entry(r.split('\t').next().unwrap_or(""))
            .or_default() += 1;
    }
    let mut text = String::from("# findings of the FPM, PHP and stack rules on the corpus's fpm and php-ini files, each linted alone\n");
    for (rule, n) in &by_rule {
        text.push_str(&format!("# {rule}\t{n}\n"));
    }
    text.push_str("rule\tpath\tline\tseverity\n");
    for r in &rows {
        text.push_str(r);
        text.push('\n');
    }
    let snap =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/corpus-findings/php-findings.tsv");
    if std::env::var_os("GATELINT_UPDATE").is_some() {
        std::fs::write(&snap, &text).expect("write the snapshot");
        return;
    }
    let want = std::fs::read_to_string(&snap).unwrap_or_default();
    if want != text {
        let diff = similar::TextDiff::from_lines(&want, &text)
            .unified_diff()
            .header("snapshot", "now")
            .to_string();
        panic!(
            "corpus findings differ from {} (GATELINT_UPDATE=1 rewrites it):\n{diff}",
            snap.display()
        );
    }
}

#[test]
fn stock_configurations_raise_no_error() {
    let Some(corpus) = corpus() else { return };
    let stock = [
        ("fpm/debian-php8.2-fpm/pool.d/www.conf", FileKind::Fpm),
        ("fpm/debian-php8.2-fpm/php-fpm.conf", FileKind::Fpm),
        (
            "php-ini/php-src-8.2.32/php.ini-production",
            FileKind::PhpIni,
        ),
        (
            "php-ini/php-src-8.2.32/php.ini-development",
            FileKind::PhpIni,
        ),
        (
            "php-ini/debian-php8.2/etc/php/8.2/fpm/php.ini",
            FileKind::PhpIni,
        ),
    ];
    for (rel, kind) in stock {
        assert!(
            corpus.join(rel).is_file(),
            "{rel} is missing from the corpus"
        );
        let errors: Vec<_> = lint_one(&corpus, rel, kind)
            .into_iter()
            .filter(|f| f.3 == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{rel}: {errors:?}");
    }
}
