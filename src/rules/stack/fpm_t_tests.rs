//! Fixed FPM configurations still start: the fixes of every bad example with an FPM file
//! (rule docs of every pack) are applied as `gatelint --fix --unsafe` would, and the real
//! `php-fpm8.2 -n -t` must accept each FPM file the fixes changed.

use crate::config::Config;
use crate::diagnostic::Applicability;
use crate::discover::discover;
use crate::rules::doc::{parse_doc, ExampleFile, Role};
use crate::source::FileKind;
use crate::workspace::source::StackSource;
use crate::workspace::{Plan, Workspace};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn fpm_binary() -> Option<String> {
    let name = std::env::var("GATELINT_PHP_FPM").unwrap_or_else(|_| "php-fpm8.2".into());
    let ok = Command::new(&name)
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(name)
    } else {
        eprintln!("SKIP: `{name}` not found; fixed FPM examples not checked with php-fpm -t");
        None
    }
}

/// Apply `rule`'s fixes to an example stack; the changed FPM files as (path, text).
fn fixed_fpm_files(rule: &str, files: &[&ExampleFile]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in files {
        let path = dir.path().join(&f.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, &f.text).expect("write example");
    }
    let (inputs, _) = discover(&[dir.path().to_path_buf()], None);
    let plan = Plan {
        inputs,
        root: Some(dir.path().to_path_buf()),
        prefix: None,
        ..Plan::default()
    };
    let mut ws = Workspace::load(&plan, &mut StackSource::new(plan.root.clone()));
    let config = Config {
        select: Some(vec![rule.to_string()]),
        ..Config::default()
    };
    crate::workspace::fix(&mut ws, &plan, &config, Applicability::Unsafe);
    let store = &ws.files;
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.kind == FileKind::Fpm) {
        let path = dir.path().join(&f.path);
        let Some(id) = store.find(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&store.get(id).text).into_owned();
        if text != f.text {
            out.push((f.path.clone(), text));
        }
    }
    out
}

/// Make a pool file checkable here: a [global] with logs in `dir`, sockets in `dir`, and
/// users that exist on any Debian machine (FPM resolves them during `-t`).
fn checkable(text: &str, dir: &Path) -> String {
    let mut out = format!(
        "[global]\nerror_log = {d}/fpm.log\npid = {d}/fpm.pid\n",
        d = dir.display()
    );
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let key = k.trim();
        let v = v.trim();
        let line = match key {
            "user" | "listen.owner" => "nobody".to_string(),
            "group" | "listen.group" => "nogroup".to_string(),
            "listen.acl_users" => "nobody".to_string(),
            "listen.acl_groups" => "nogroup".to_string(),
            "listen" | "slowlog" | "access.log" if v.starts_with('/') => format!(
                "{}/{}",
                dir.display(),
                Path::new(v)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            _ => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
        };
        out.push_str(&format!("{key} = {line}\n"));
    }
    out
}

#[test]
fn fixed_fpm_examples_pass_php_fpm_t() {
    let Some(fpm) = fpm_binary() else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (id, text) in crate::rules::docs() {
        let doc = parse_doc(text).unwrap_or_else(|e| panic!("rules/{id}.md: {e}"));
        let mut groups: BTreeMap<&str, Vec<&ExampleFile>> = BTreeMap::new();
        for e in doc.examples.iter().filter(|e| e.role != Role::Fixed) {
            groups.entry(e.example.as_str()).or_default().push(e);
        }
        for (name, files) in groups {
            let has_bad_fpm = files
                .iter()
                .any(|f| f.role == Role::Bad && f.kind == FileKind::Fpm);
            if !has_bad_fpm {
                continue;
            }
            for (path, fixed) in fixed_fpm_files(id, &files) {
                checked += 1;
                let d = work.path().join(format!("c{checked}"));
                std::fs::create_dir_all(&d).expect("mkdir");
                let conf = d.join("php-fpm.conf");
                std::fs::write(&conf, checkable(&fixed, &d)).expect("write");
                let out = Command::new(&fpm)
                    .args(["-n", "-t", "-y"])
                    .arg(&conf)
                    .output()
                    .expect("run php-fpm");
                if !out.status.success() {
                    failures.push(format!(
                        "rules/{id}.md example `{name}` ({path}): php-fpm -t refuses the fixed file:\n{}\n{}",
                        fixed,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
        }
    }
    eprintln!("php-fpm -t checked {checked} fixed FPM files");
    assert!(checked >= 8, "only {checked} fixed FPM files were checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
