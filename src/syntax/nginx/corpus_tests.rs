//! Tests over the corpus of real configurations (`../shared/corpus`, see its MANIFEST.tsv):
//! lossless round trips, include loading without syntax errors, agreement with
//! `crossplane parse`, and property tests on random and mutated input.

use super::*;
use crate::source::Files;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus folder {} is absent", dir.display());
        None
    }
}

/// `(path, kind, entry, note)` rows of the manifest.
fn manifest(dir: &Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((
                f.next()?.to_string(),
                f.next()?.to_string(),
                f.next()?.to_string(),
                f.next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

fn nginx_kind(kind: &str) -> bool {
    matches!(
        kind,
        "nginx" | "nginx-include-fragment" | "nginx-invalid" | "template"
    )
}

/// A `path<TAB>reason` list under testdata/nginx.
fn listed(name: &str) -> Vec<(String, String)> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/nginx")
        .join(name);
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn every_corpus_file_round_trips() {
    let Some(dir) = corpus_dir() else { return };
    let mut n = 0;
    for (path, kind, _, _) in manifest(&dir) {
        if !nginx_kind(&kind) {
            continue;
        }
        let text = std::fs::read(dir.join(&path)).unwrap();
        let tree = parse(&text);
        assert_eq!(tree.check_lossless(&text), Ok(()), "{path}");
        let mut back = Vec::with_capacity(text.len());
        for p in tree.pieces() {
            back.extend_from_slice(&text[p.range.as_range()]);
        }
        assert!(back == text, "{path} does not round-trip");
        n += 1;
    }
    eprintln!("{n} corpus files round-trip");
    assert!(n > 700);
}

#[test]
fn entry_files_load_with_includes_without_syntax_errors() {
    let Some(dir) = corpus_dir() else { return };
    // Files nginx itself rejects with a syntax error (the manifest's note says so, or
    // the syntax error comes after a first, semantic one nginx stops at).
    let known = listed("corpus-syntax-errors.tsv");
    let mut n = 0;
    let mut files_loaded = 0;
    for (path, kind, entry, _) in manifest(&dir) {
        if kind != "nginx" || entry != "yes" {
            continue;
        }
        let mut files = Files::new();
        let cfg = load(&dir.join(&path), None, &mut files).unwrap();
        files_loaded += cfg.files.len();
        let errors: Vec<String> = cfg
            .files
            .iter()
            .flat_map(|f| {
                let src = files.get(f.file);
                f.tree.errors.iter().map(move |e| {
                    format!(
                        "{}:{}: {}",
                        src.display_path(),
                        src.line_col(e.range.start).line,
                        e.message
                    )
                })
            })
            .collect();
        let expected = known.iter().any(|(p, _)| *p == path);
        if expected {
            assert!(
                !errors.is_empty(),
                "{path} is listed as a syntax error but parses"
            );
        } else {
            assert!(errors.is_empty(), "{path}: {errors:?}");
        }
        n += 1;
    }
    eprintln!("{n} entry files, {files_loaded} files with includes");
    assert!(n >= 100);
}

#[test]
fn invalid_fixtures_have_the_error_nginx_reports() {
    let Some(dir) = corpus_dir() else { return };
    for (path, kind, _, note) in manifest(&dir) {
        if kind != "nginx-invalid" {
            continue;
        }
        let text = std::fs::read(dir.join(&path)).unwrap();
        let tree = parse(&text);
        let first = tree.errors.first().map(|e| {
            let line = crate::source::LineIndex::new(&text).line_of(e.range.start) + 1;
            format!("{} in {path}:{line}", e.message)
        });
        let first = first.unwrap_or_default();
        // The note holds `[emerg] MESSAGE in PATH:LINE` as nginx printed it.
        assert!(
            note.contains(&first) && !first.is_empty(),
            "{path}: we say {first:?}, nginx: {note}"
        );
    }
}

fn crossplane_program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATELINT_CROSSPLANE") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("crossplane"))
        .find(|p| p.is_file())
}

#[test]
fn crossplane_agreement() {
    let Some(dir) = corpus_dir() else { return };
    let Some(cp) = crossplane_program() else {
        eprintln!("SKIPPED: crossplane not found (set GATELINT_CROSSPLANE or put it on PATH)");
        return;
    };
    let allowed = listed("crossplane-differences.tsv");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut agree = 0;
    let mut total = 0;
    let mut failures = Vec::new();
    for (path, kind, entry, _) in manifest(&dir) {
        if kind != "nginx" || entry != "yes" {
            continue;
        }
        total += 1;
        // Both tools print paths as given: give both the same relative path.
        let rel = format!("../shared/corpus/{path}");
        let theirs = std::process::Command::new(&cp)
            .args(["parse", &rel])
            .current_dir(root)
            .output()
            .unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(&theirs.stdout).unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cwd, root, "tests run from the crate root");
        crate::cli::run(
            [
                "gatelint",
                "parse",
                "--kind",
                "nginx",
                "--format",
                "crossplane",
                &rel,
            ],
            &mut out,
            &mut err,
        );
        let ours: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let listed = allowed.iter().any(|(p, _)| *p == path);
        if ours == theirs {
            agree += 1;
            if listed {
                failures.push(format!("{path}: listed as different but agrees"));
            }
        } else if !listed {
            failures.push(format!("{path}: differs from crossplane"));
        }
    }
    eprintln!("crossplane agreement: {agree} of {total} entry files identical as JSON values");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Check the lossless invariant; the parser must not panic on anything.
fn assert_round_trip(text: &[u8]) -> Result<(), TestCaseError> {
    let tree = parse(text);
    prop_assert_eq!(tree.check_lossless(text), Ok(()));
    let mut back = Vec::with_capacity(text.len());
    for p in tree.pieces() {
        back.extend_from_slice(&text[p.range.as_range()]);
    }
    prop_assert!(back == text);
    // Every view works on every directive.
    for d in tree.all(text) {
        let _ = d.name();
        for a in d.args() {
            let _ = a.value();
        }
        let _ = d.block_path();
        prop_assert!(d.span().end as usize <= text.len());
    }
    Ok(())
}

fn corpus_texts() -> Vec<Vec<u8>> {
    let Some(dir) = corpus_dir() else {
        return vec![b"http { server { listen 80; location / { return 200 \"a\"; } } }".to_vec()];
    };
    manifest(&dir)
        .into_iter()
        .filter(|(_, k, _, _)| nginx_kind(k))
        .filter_map(|(p, _, _, _)| std::fs::read(dir.join(p)).ok())
        .collect()
}

/// Bytes that matter to the lexer, so random input hits its states often.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"{};#\"'\\$ \t\r\n()[]=-_by_lua_block".to_vec()),
        any::<u8>(),
    ]
}

proptest! {
    // Past failures are kept under testdata/, so the crate's top level stays as it is.
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("testdata/proptest-regressions/nginx.txt"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_round_trip(text in prop::collection::vec(interesting_byte(), 0..400)) {
        assert_round_trip(&text)?;
    }

    #[test]
    fn lua_flavoured_input_round_trips(
        body in prop::collection::vec(prop::sample::select(b"{}[]=-'\"\\\n x".to_vec()), 0..200)
    ) {
        let mut text = b"content_by_lua_block {".to_vec();
        text.extend_from_slice(&body);
        assert_round_trip(&text)?;
    }

    #[test]
    fn mutated_corpus_files_round_trip(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, interesting_byte()), 1..8)
    ) {
        thread_local! {
            static TEXTS: Vec<Vec<u8>> = corpus_texts();
        }
        let mut text = TEXTS.with(|t| t[pick.index(t.len())].clone());
        for (at, op, b) in edits {
            let i = at.index(text.len() + 1);
            match op {
                0 => text.insert(i, b),
                1 if i < text.len() => { text.remove(i); }
                _ if i < text.len() => text[i] = b,
                _ => text.push(b),
            }
        }
        assert_round_trip(&text)?;
    }
}
