//! Fuzz the whole `check` pipeline on a generated stack: nginx files that include each
//! other through paths and globs, PHP-FPM files and php.ini files, loaded as one
//! workspace, linted by every rule, printed in every format, and fixed to a fixpoint.
//! Nothing may panic; every finding must point inside its file; every file a fix
//! changed must still parse.
//!
//! The input is split at 0xFF bytes (never part of UTF-8 text) into the files of
//! [`PLACES`], in order; missing pieces are absent files.
//!
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run check_pipeline --fuzz-dir testdata/fuzz`
#![no_main]

use gatelint::config::Config;
use gatelint::diagnostic::Applicability;
use gatelint::output::{write_report, OutputFormat, Report, RuleMeta};
use gatelint::source::FileKind;
use gatelint::discover::Input;
use gatelint::workspace::{fix, lint, parses, Plan, Workspace};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

/// Where each piece of the input goes: a Debian-like tree under a relative folder, so
/// that includes resolve inside it.
const PLACES: &[(&str, FileKind)] = &[
    ("fz/etc/nginx/nginx.conf", FileKind::Nginx),
    ("fz/etc/nginx/conf.d/a.conf", FileKind::Nginx),
    ("fz/etc/nginx/sites-enabled/site", FileKind::Nginx),
    ("fz/etc/nginx/snippets/s.conf", FileKind::Nginx),
    ("fz/etc/php/8.2/fpm/pool.d/www.conf", FileKind::Fpm),
    ("fz/etc/php/8.2/fpm/php-fpm.conf", FileKind::Fpm),
    ("fz/etc/php/8.2/fpm/php.ini", FileKind::PhpIni),
    ("fz/etc/php/8.2/fpm/conf.d/10-x.ini", FileKind::PhpIni),
];

const FORMATS: &[OutputFormat] = &[
    OutputFormat::Human,
    OutputFormat::Short,
    OutputFormat::Json,
    OutputFormat::Sarif,
    OutputFormat::Github,
];

fuzz_target!(|data: &[u8]| {
    let mut plan = Plan::default();
    for ((path, kind), text) in PLACES.iter().zip(data.split(|b| *b == 0xff)) {
        plan.inputs.push(Input {
            path: PathBuf::from(path),
            kind: *kind,
            text: Some(text.to_vec()),
        });
    }
    let mut source = plan.source();
    for input in &plan.inputs {
        source
            .overlay
            .insert(input.path.clone(), input.text.clone().unwrap_or_default());
    }
    let config = Config::default();
    let mut ws = Workspace::load(&plan, &mut source);
    let diagnostics = lint(&ws, &config);
    for d in &diagnostics {
        let len = ws.files.get(d.file).text.len() as u32;
        assert!(d.range.start <= d.range.end && d.range.end <= len, "{d:?}");
        for r in &d.related {
            assert!(r.range.end <= ws.files.get(r.file).text.len() as u32, "{d:?}");
        }
        if let Some(f) = &d.fix {
            for e in &f.edits {
                assert!(e.range.end <= ws.files.get(e.file).text.len() as u32, "{d:?}");
            }
        }
    }
    let rules: Vec<RuleMeta> = gatelint::rules::registry().iter().map(|r| *r.meta()).collect();
    let report = Report {
        files: &ws.files,
        file_kinds: &ws.kinds,
        diagnostics: &diagnostics,
        rules: &rules,
        context: None,
    };
    for format in FORMATS {
        let mut out = Vec::new();
        write_report(*format, &report, &mut out, false).expect("a report writes");
        // Short and GitHub print one line per finding, and nothing without one.
        let one_per_finding = matches!(format, OutputFormat::Short | OutputFormat::Github);
        assert!(!out.is_empty() || (one_per_finding && diagnostics.is_empty()));
        if matches!(format, OutputFormat::Human | OutputFormat::Short | OutputFormat::Github) {
            assert!(!out.contains(&0x1b), "a raw ESC in the {format:?} report");
        }
    }
    // Fixing is costly (each round loads the stack again): only where a fix exists.
    if diagnostics.iter().any(|d| d.fix.is_some()) {
        let kinds: Vec<_> = ws.kinds.clone();
        let outcome = fix(&mut ws, &plan, &config, Applicability::Unsafe);
        for c in &outcome.changed {
            let kind = kinds.iter().find(|(id, _)| *id == c.file).map(|(_, k)| *k);
            if let Some(kind) = kind {
                assert!(parses(kind, ws.files.get(c.file)), "a fix broke a file");
            }
        }
    }
});
