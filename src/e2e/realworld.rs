//! The real-world corpus: every set of `testdata/realworld/` is linted as a user lints it
//! (`gatelint check .` from inside the set), and its errors and warnings must be exactly the
//! true findings `expected.tsv` lists with their reasons.

use crate::gatelint;
use std::collections::{BTreeMap, BTreeSet};

/// Data lines of a TSV file (comments and blank lines skipped), split on tabs.
fn rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(crate::top().join("testdata/realworld").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn real_world_sets_report_only_their_listed_true_findings() {
    let dir = crate::top().join("testdata/realworld");
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows("expected.tsv") {
        assert_eq!(r.len(), 4, "expected.tsv: {r:?}");
        assert!(
            !r[3].trim().is_empty(),
            "every listed finding has its reason: {r:?}"
        );
        expected
            .entry(r[0].clone())
            .or_default()
            .insert(format!("{} {}", r[1], r[2]));
    }
    let settings: BTreeMap<String, (String, String)> = rows("settings.tsv")
        .into_iter()
        .map(|r| {
            assert_eq!(r.len(), 4, "settings.tsv: {r:?}");
            (r[0].clone(), (r[1].clone(), r[2].replace("\\n", "\n")))
        })
        .collect();
    let mut sets = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if !entry.file_type().unwrap().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        sets += 1;
        let cfg = tempfile::tempdir().unwrap();
        let mut cmd = gatelint();
        cmd.args(["check", "--format", "json"])
            .current_dir(entry.path());
        let (args, toml) = settings
            .get(&name)
            .cloned()
            .unwrap_or_else(|| ("-".into(), "-".into()));
        if args == "-" {
            cmd.arg(".");
        } else {
            cmd.args(args.split(' '));
        }
        if toml != "-" {
            let p = cfg.path().join("gatelint.toml");
            std::fs::write(&p, toml).unwrap();
            cmd.arg("--config").arg(p);
        }
        let out = cmd.output().unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            !v["files"].as_array().unwrap().is_empty(),
            "{name}: no file was checked"
        );
        let found: BTreeSet<String> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] != "info")
            .map(|d| {
                format!(
                    "{}:{} {}",
                    d["path"].as_str().unwrap(),
                    d["range"]["start"]["line"],
                    d["rule"].as_str().unwrap()
                )
            })
            .collect();
        let want = expected.remove(&name).unwrap_or_default();
        for f in found.difference(&want) {
            wrong.push(format!("{name}: unexpected {f}"));
        }
        for f in want.difference(&found) {
            wrong.push(format!("{name}: listed but not reported {f}"));
        }
    }
    assert!(sets >= 30, "the corpus holds {sets} sets");
    assert!(
        expected.is_empty(),
        "expected.tsv names sets that do not exist: {:?}",
        expected.keys()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
