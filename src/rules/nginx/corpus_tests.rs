//! The nginx pack over real configurations (the corpus of `../shared/corpus`) and over a
//! generated corpus with seeded defects: finding counts by rule are compared with the
//! snapshots in `testdata/corpus-findings/` (`GATELINT_UPDATE=1` rewrites them), the
//! well-known good configurations must raise no error, and every seeded defect that maps
//! to a rule of this pack must be found.

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::Input;
use crate::source::FileKind;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Configurations known to be good: nginx's own conf/, Debian's defaults, h5bp.
const WELL_KNOWN_GOOD: [&str; 3] = [
    "nginx/nginx-upstream/",
    "nginx/debian-nginx-common/",
    "nginx/h5bp-server-configs-nginx/",
];

fn crate_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Lint one nginx root file (with its includes) with every rule.
pub(super) fn lint_root(path: &Path) -> (Workspace, Vec<Diagnostic>) {
    let plan = Plan {
        inputs: vec![Input {
            path: path.to_path_buf(),
            kind: FileKind::Nginx,
            text: None,
        }],
        root: None,
        prefix: None,
        ..Plan::default()
    };
    let mut source = StackSource::new(None);
    let ws = Workspace::load(&plan, &mut source);
    let diags = lint(&ws, &Config::default());
    (ws, diags)
}

/// True for a rule of this pack.
fn ours(rule: &str) -> bool {
    super::RULES.iter().any(|r| r.meta().id == rule)
}

/// Compare `text` with the snapshot `name`, or rewrite it under `GATELINT_UPDATE=1`.
fn check_snapshot(name: &str, text: &str) {
    let path = crate_dir().join("testdata/corpus-findings").join(name);
    if std::env::var_os("GATELINT_UPDATE").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write snapshot");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        want, text,
        "{name} differs from the findings; rerun with GATELINT_UPDATE=1 and review the diff"
    );
}

fn counts_tsv(counts: &BTreeMap<String, usize>) -> String {
    let mut s = String::from("rule\tfindings\n");
    for r in super::RULES {
        let id = r.meta().id;
        s.push_str(&format!("{id}\t{}\n", counts.get(id).copied().unwrap_or(0)));
    }
    s
}

fn line_of(ws: &Workspace, d: &Diagnostic) -> (String, usize) {
    let f = ws.files.get(d.file);
    (
        f.path.display().to_string(),
        f.line_col(d.range.start).line as usize,
    )
}

#[test]
fn real_corpus_findings_match_the_snapshot() {
    let corpus = crate_dir().join("../shared/corpus");
    let manifest = match std::fs::read_to_string(corpus.join("MANIFEST.tsv")) {
        Ok(m) => m,
        Err(_) => {
            eprintln!("skipping: corpus not found at {}", corpus.display());
            return;
        }
    };
    let mut counts = BTreeMap::new();
    let mut errors = String::new();
    let mut good_errors = Vec::new();
    let mut roots = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 || cols[1] != "nginx" || cols[2] != "yes" {
            continue;
        }
        roots += 1;
        let (ws, diags) = lint_root(&corpus.join(cols[0]));
        for d in diags.iter().filter(|d| ours(d.rule)) {
            *counts.entry(d.rule.to_string()).or_insert(0) += 1;
            if d.severity == Severity::Error {
                let (p, l) = line_of(&ws, d);
                let rel = p
                    .split("corpus/")
                    .nth(1)
                    .map(str::to_string)
                    .unwrap_or(p.clone());
                errors.push_str(&format!("{rel}:{l}\t{}\t{}\n", d.rule, d.message));
                if WELL_KNOWN_GOOD.iter().any(|g| cols[0].starts_with(g)) {
                    good_errors.push(format!("{rel}:{l} {} {}", d.rule, d.message));
                }
            }
        }
    }
    assert!(roots > 50, "only {roots} nginx roots in the manifest");
    assert!(
        good_errors.is_empty(),
        "well-known good configurations raised errors:\n{}",
        good_errors.join("\n")
    );
    let mut lines: Vec<&str> = errors.lines().collect();
    lines.sort();
    lines.dedup();
    let errors = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    check_snapshot("corpus-counts.tsv", &counts_tsv(&counts));
    check_snapshot("corpus-errors.tsv", &errors);
}

/// Map a seeded defect kind of the generator to the rule that must find it.
fn rule_for(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "proxy_read_timeout_too_low" | "fastcgi_read_timeout_too_low" => {
            "proxy-read-timeout-too-low"
        }
        "proxy_connect_timeout_too_low" => "proxy-connect-timeout-too-low",
        "proxy_buffer_size_too_small" | "fastcgi_buffer_size_too_small" => {
            "upstream-header-buffer-too-small"
        }
        "upstream_keepalive_without_http11" => "upstream-keepalive-without-http11",
        _ => return None,
    })
}

#[test]
fn generated_corpus_findings_and_recall() {
    let script = crate_dir().join("../shared/bench/gen_nginx_corpus.py");
    if !script.is_file() {
        eprintln!("skipping: generator not found at {}", script.display());
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("gen");
    let status = std::process::Command::new("python3")
        .arg(&script)
        .args(["--vhosts", "2000", "--out"])
        .arg(&out)
        .output();
    match status {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("generator failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("skipping: python3 not available ({e})");
            return;
        }
    }
    let (ws, diags) = lint_root(&out.join("nginx.conf"));
    let mut counts = BTreeMap::new();
    let mut found: Vec<(String, usize, &str)> = Vec::new();
    for d in diags.iter().filter(|d| ours(d.rule)) {
        *counts.entry(d.rule.to_string()).or_insert(0) += 1;
        let (p, l) = line_of(&ws, d);
        found.push((p, l, d.rule));
    }
    check_snapshot("generated-counts.tsv", &counts_tsv(&counts));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json"),
    )
    .expect("manifest parses");
    let seeded = manifest["seeded_defects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut missed = Vec::new();
    for s in &seeded {
        let kind = s["kind"].as_str().unwrap_or("");
        let Some(rule) = rule_for(kind) else { continue };
        let file = s["file"].as_str().unwrap_or("");
        let line = s["line"].as_u64().unwrap_or(0) as usize;
        let hit = found
            .iter()
            .any(|(p, l, r)| p.ends_with(file) && *l == line && *r == rule);
        let e = by_kind.entry(kind.to_string()).or_default();
        e.0 += 1;
        if hit {
            e.1 += 1;
        } else {
            missed.push(format!("{file}:{line} {kind}"));
        }
    }
    for (k, (n, hit)) in &by_kind {
        eprintln!("recall {k}: {hit}/{n}");
    }
    assert!(
        by_kind.values().map(|v| v.0).sum::<usize>() > 50,
        "too few seeded defects"
    );
    assert!(
        missed.is_empty(),
        "seeded defects missed:\n{}",
        missed.join("\n")
    );
}
