//! Every way of naming a tree gives the same findings and the same diff; the README's
//! configuration example is accepted.

use crate::gatelint;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Copy `from` into `to` (files, folders and symlinks as they are).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read tree") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        let ft = entry.file_type().expect("type");
        if ft.is_symlink() {
            let link = std::fs::read_link(entry.path()).expect("readlink");
            std::os::unix::fs::symlink(link, &target).expect("symlink");
        } else if ft.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// One way of naming a tree: run from `cwd` with `arg`; the report's paths start with
/// `prefix` (the tree as that form writes it).
struct Form {
    name: &'static str,
    cwd: PathBuf,
    arg: String,
    prefix: String,
}

/// The forms that name `tree` (a folder inside `work`, reachable as `work/link` too).
fn forms(work: &Path, tree: &Path) -> Vec<Form> {
    let name = tree.file_name().unwrap().to_str().unwrap().to_string();
    let abs = tree.to_str().unwrap().to_string();
    let mut v = vec![
        Form {
            name: "dot",
            cwd: tree.into(),
            arg: ".".into(),
            prefix: String::new(),
        },
        Form {
            name: "dot-slash",
            cwd: tree.into(),
            arg: "./".into(),
            prefix: String::new(),
        },
        Form {
            name: "absolute",
            cwd: "/".into(),
            arg: abs.clone(),
            prefix: format!("{abs}/"),
        },
        Form {
            name: "from-parent",
            cwd: work.into(),
            arg: name.clone(),
            prefix: format!("{name}/"),
        },
        Form {
            name: "symlink",
            cwd: work.into(),
            arg: "link".into(),
            prefix: "link/".into(),
        },
    ];
    if tree.join("etc").is_dir() {
        v.push(Form {
            name: "dot-dot",
            cwd: tree.join("etc"),
            arg: "..".into(),
            prefix: "../".into(),
        });
    }
    v
}

/// The findings of a JSON report as `severity rule path:line:col`, paths relative to the
/// tree, sorted.
fn findings(json: &[u8], prefix: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("json report");
    let mut out: Vec<String> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            let p = d["path"].as_str().unwrap();
            let p = p.strip_prefix(prefix).unwrap_or(p);
            let s = &d["range"]["start"];
            format!(
                "{} {} {}:{}:{}",
                d["severity"], d["rule"], p, s["line"], s["column"]
            )
        })
        .collect();
    out.sort();
    out
}

/// Where a patch's header path is applied from: `cwd` when the file is there, else `/`
/// (the patch names an absolute path without its leading `/`).
fn apply_dir(cwd: &Path, header: &str) -> PathBuf {
    if cwd.join(header).exists() {
        cwd.to_path_buf()
    } else {
        PathBuf::from("/")
    }
}

/// A patch with its `---`/`+++` header paths written relative to the tree.
fn normalized_patch(patch: &[u8], cwd: &Path, tree: &Path) -> String {
    let tree = tree.canonicalize().unwrap();
    String::from_utf8_lossy(patch)
        .lines()
        .map(|l| {
            for head in ["--- a/", "+++ b/"] {
                if let Some(rest) = l.strip_prefix(head) {
                    let full = apply_dir(cwd, rest).join(rest).canonicalize().unwrap();
                    let rel = full
                        .strip_prefix(&tree)
                        .unwrap_or(&full)
                        .display()
                        .to_string();
                    return format!("{head}{rel}");
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Check `tree` through every form: the same findings, the same diff, and a diff that
/// names each file once and applies with `git apply` where git is installed.
fn same_under_every_name(tree_src: &Path) {
    let work = tempfile::tempdir().expect("temp dir");
    let tree = work.path().join(tree_src.file_name().unwrap());
    copy_tree(tree_src, &tree);
    std::os::unix::fs::symlink(&tree, work.path().join("link")).expect("symlink");
    let mut first: Option<(String, Vec<String>, String)> = None;
    for f in forms(work.path(), &tree) {
        let out = gatelint()
            .args(["check", "--format", "json", &f.arg])
            .current_dir(&f.cwd)
            .output()
            .expect("run gatelint");
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{}: {}",
            f.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let found = findings(&out.stdout, &f.prefix);
        let diff = gatelint()
            .args(["check", "--diff", "--unsafe-fixes", &f.arg])
            .current_dir(&f.cwd)
            .output()
            .expect("run gatelint");
        let patch = normalized_patch(&diff.stdout, &f.cwd, &tree);
        let heads: Vec<&str> = patch.lines().filter(|l| l.starts_with("--- ")).collect();
        let mut uniq = heads.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(
            heads.len(),
            uniq.len(),
            "{}: the diff names a file twice:\n{patch}",
            f.name
        );
        match &first {
            None => first = Some((f.name.to_string(), found, patch)),
            Some((name0, found0, patch0)) => {
                assert_eq!(
                    &found,
                    found0,
                    "`{}` and `{}` differ on {}",
                    f.name,
                    name0,
                    tree_src.display()
                );
                assert_eq!(
                    &patch, patch0,
                    "the diffs of `{}` and `{}` differ",
                    f.name, name0
                );
            }
        }
        let raw = String::from_utf8_lossy(&diff.stdout);
        let first_file = raw.lines().find_map(|l| l.strip_prefix("--- a/"));
        // git refuses a patch whose paths go through a symlink; the other forms name the
        // same files.
        if let (Some(first_file), false) = (first_file, f.name == "symlink") {
            let apply = Command::new("git")
                .args(["apply", "--check", "-p1", "-"])
                .current_dir(apply_dir(&f.cwd, first_file))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn();
            if let Ok(mut child) = apply {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(&diff.stdout).unwrap();
                let o = child.wait_with_output().unwrap();
                assert!(
                    o.status.success(),
                    "{}: git apply rejects the diff: {}",
                    f.name,
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
}

#[test]
fn every_bundled_stack_gives_the_same_findings_however_it_is_named() {
    let stacks = crate::top().join("testdata/stacks");
    let mut n = 0;
    for entry in std::fs::read_dir(&stacks).expect("stacks") {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            same_under_every_name(&entry.path());
            n += 1;
        }
    }
    assert!(n >= 1);
}

#[test]
fn a_file_reached_through_a_symlink_is_linted_once_at_the_enabled_path() {
    let work = tempfile::tempdir().expect("temp dir");
    let tree = work.path().join("host");
    let nginx = tree.join("etc/nginx");
    std::fs::create_dir_all(nginx.join("sites-available")).unwrap();
    std::fs::create_dir_all(nginx.join("sites-enabled")).unwrap();
    std::fs::write(
        nginx.join("nginx.conf"),
        "events {}\nhttp {\n    include /etc/nginx/sites-enabled/*;\n}\n",
    )
    .unwrap();
    std::fs::write(
        nginx.join("sites-available/site"),
        "server {\n    listen 80;\n    location / {\n        proxy_pass backend;\n    }\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../sites-available/site", nginx.join("sites-enabled/site"))
        .unwrap();
    same_under_every_name(&tree);
    // From inside the copy's etc/nginx, the root is found above it and the paths stay as
    // the user wrote them.
    let out = gatelint()
        .args(["check", "--format", "short", "."])
        .current_dir(&nginx)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with("sites-enabled/site:4:20: error[proxy-pass-invalid-url]"),
        "{text}"
    );
}

/// The fenced blocks of `lang` in the README.
fn readme_blocks(lang: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(crate::top().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in readme.lines() {
        match &mut cur {
            None if line.trim_start() == format!("```{lang}") => cur = Some(String::new()),
            Some(b) if line.trim_start() == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn the_readme_configuration_example_is_accepted() {
    let blocks = readme_blocks("toml");
    assert!(!blocks.is_empty(), "the README has a toml example");
    let example = crate::top().join("testdata/stacks/example");
    for b in blocks {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("gatelint.toml");
        std::fs::write(&cfg, &b).unwrap();
        let out = gatelint()
            .args(["check", "--format", "short", "--config"])
            .arg(&cfg)
            .arg(&example)
            .output()
            .unwrap();
        assert_ne!(
            out.status.code(),
            Some(2),
            "{b}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
