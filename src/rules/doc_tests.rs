//! The rule docs are part of the test suite: every registered rule has a doc whose front
//! matter agrees with the code, every doc has a rule, bad examples raise their rule, good
//! ones do not, and fixed examples equal the result of applying the rule's fixes.

use super::doc::{parse_doc, ExampleFile, Role};
use super::{docs, registry};
use crate::config::Config;
use crate::diagnostic::{Applicability, Diagnostic};
use crate::discover::discover;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};
use std::collections::BTreeMap;
use std::path::Path;

/// Lint a set of example files written under a temporary root, with only `rule` enabled.
fn run_example(rule: &str, files: &[&ExampleFile]) -> (tempfile::TempDir, Workspace, Plan) {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in files {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &f.text).expect("write example");
    }
    let (inputs, errors) = discover(&[dir.path().to_path_buf()], None);
    assert!(errors.is_empty(), "{errors:?}");
    let plan = Plan {
        inputs,
        root: Some(dir.path().to_path_buf()),
        prefix: None,
        ..Plan::default()
    };
    let mut source = StackSource::new(plan.root.clone());
    let ws = Workspace::load(&plan, &mut source);
    let _ = rule;
    (dir, ws, plan)
}

fn config_for(rule: &str) -> Config {
    Config {
        select: Some(vec![rule.to_string()]),
        ..Config::default()
    }
}

fn describe(ws: &Workspace, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let f = ws.files.get(d.file);
            let lc = f.line_col(d.range.start);
            format!("{}:{}: {} {}", f.display_path(), lc.line, d.rule, d.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_rule_has_a_doc_that_agrees_and_every_doc_a_rule() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("rules/ folder")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| n.trim_end_matches(".md").to_string())
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = registry().iter().map(|r| r.meta().id.to_string()).collect();
    registered.sort();
    assert_eq!(on_disk, registered, "rules/*.md and the registry differ");
    for rule in registry() {
        let m = rule.meta();
        let (_, text) = docs()
            .into_iter()
            .find(|(id, _)| *id == m.id)
            .unwrap_or_else(|| panic!("no doc compiled in for {}", m.id));
        let doc = parse_doc(text).unwrap_or_else(|e| panic!("rules/{}.md: {e}", m.id));
        assert_eq!(doc.front.id, m.id);
        assert_eq!(doc.front.severity, m.severity.as_str(), "{}", m.id);
        assert_eq!(doc.front.summary, m.summary, "{}", m.id);
        let kinds: Vec<&str> = m.kinds.iter().map(|k| k.as_str()).collect();
        assert_eq!(doc.front.kinds, kinds, "{}", m.id);
        assert_eq!(
            doc.front.fix.as_deref(),
            m.fix.map(|a| a.as_str()),
            "{}",
            m.id
        );
        assert!(
            doc.examples.iter().any(|e| e.role == Role::Bad),
            "rules/{}.md has no bad example",
            m.id
        );
        assert!(
            doc.examples.iter().any(|e| e.role == Role::Good),
            "rules/{}.md has no good example",
            m.id
        );
    }
}

#[test]
fn doc_examples_behave_as_documented() {
    let mut failures = Vec::new();
    for (id, text) in docs() {
        let doc = parse_doc(text).unwrap_or_else(|e| panic!("rules/{id}.md: {e}"));
        let mut groups: BTreeMap<&str, Vec<&ExampleFile>> = BTreeMap::new();
        for e in &doc.examples {
            groups.entry(e.example.as_str()).or_default().push(e);
        }
        for (name, files) in groups {
            let inputs: Vec<&ExampleFile> = files
                .iter()
                .copied()
                .filter(|f| f.role != Role::Fixed)
                .collect();
            let bad = inputs.iter().any(|f| f.role == Role::Bad);
            let (_dir, ws, plan) = run_example(id, &inputs);
            let config = config_for(id);
            let found: Vec<Diagnostic> = lint(&ws, &config)
                .into_iter()
                .filter(|d| d.rule == id)
                .collect();
            let line = inputs.first().map(|f| f.line).unwrap_or(0);
            if bad && found.is_empty() {
                failures.push(format!(
                    "rules/{id}.md:{line} example `{name}`: bad example raised nothing"
                ));
            }
            if !bad && !found.is_empty() {
                failures.push(format!(
                    "rules/{id}.md:{line} example `{name}`: good example raised:\n{}",
                    describe(&ws, &found)
                ));
            }
            let fixed: Vec<&ExampleFile> = files
                .iter()
                .copied()
                .filter(|f| f.role == Role::Fixed)
                .collect();
            if fixed.is_empty() {
                continue;
            }
            let mut ws = ws;
            let outcome = crate::workspace::fix(&mut ws, &plan, &config, Applicability::Unsafe);
            let store = &ws.files;
            for want in fixed {
                let path = ws
                    .root
                    .as_ref()
                    .map(|r| r.join(&want.path))
                    .unwrap_or_default();
                let got = store
                    .find(&path)
                    .map(|id| String::from_utf8_lossy(&store.get(id).text).into_owned());
                if got.as_deref() != Some(want.text.as_str()) {
                    failures.push(format!(
                        "rules/{id}.md:{} example `{name}`: fixed text differs ({} fixes applied)\n--- want\n{}\n--- got\n{}",
                        want.line,
                        outcome.applied,
                        want.text,
                        got.unwrap_or_else(|| "<file missing>".into())
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
