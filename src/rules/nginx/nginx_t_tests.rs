//! The fixes of this pack, checked by the real nginx: every fixed example of the rule docs
//! and the fixed versions of the corpus configurations (real and generated) must still pass
//! `nginx -t`. Skipped, visibly, when nginx is not installed.

use super::corpus_tests::lint_root;
use crate::diagnostic::{Applicability, Diagnostic, Edit};
use crate::fix::{apply_edits, select_fixes};
use crate::rules::doc::{parse_doc, Role};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The nginx binary: `GATELINT_NGINX`, else `nginx` on PATH, else `/usr/sbin/nginx`.
fn nginx() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GATELINT_NGINX") {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from("/usr/sbin/nginx");
        p.is_file().then_some(p)
    })
}

/// Run `nginx -t` on `conf` with `prefix`; no network is used, so a host name nginx cannot
/// resolve is replaced by `localhost` and the test repeated (that error says nothing
/// about the fix). Returns nginx's complaint when it refuses the configuration.
fn nginx_t(bin: &Path, prefix: &Path, conf: &Path) -> Result<(), String> {
    std::fs::create_dir_all(prefix.join("logs")).map_err(|e| e.to_string())?;
    for _ in 0..20 {
        let out = Command::new(bin)
            .arg("-t")
            .arg("-q")
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(conf)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let Some(host) = unresolved_host(&err) else {
            return Err(err);
        };
        let file = err_file(&err).unwrap_or_else(|| conf.to_path_buf());
        let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let bare = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(&host);
        if !text.contains(bare) || bare == "localhost" {
            return Err(err);
        }
        std::fs::write(&file, text.replace(bare, "localhost")).map_err(|e| e.to_string())?;
    }
    Err("too many unresolvable hosts".into())
}

/// The host of `host not found in upstream "X"`.
fn unresolved_host(err: &str) -> Option<String> {
    let rest = err.split("host not found in upstream \"").nth(1)?;
    Some(rest.split('"').next()?.to_string())
}

/// The file of ` in /path:line` at the end of nginx's message.
fn err_file(err: &str) -> Option<PathBuf> {
    let line = err.lines().find(|l| l.contains("[emerg]"))?;
    let tail = line.rsplit(" in ").next()?;
    Some(PathBuf::from(tail.rsplit_once(':')?.0))
}

#[test]
fn fixed_doc_examples_pass_nginx_t() {
    let Some(bin) = nginx() else {
        eprintln!("skipping: nginx not found (set GATELINT_NGINX)");
        return;
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (id, text) in super::DOCS {
        let doc = parse_doc(text).expect("doc parses");
        for fixed in doc.examples.iter().filter(|e| e.role == Role::Fixed) {
            let dir = tempfile::tempdir().expect("temp dir");
            let conf = dir.path().join(&fixed.path);
            std::fs::create_dir_all(conf.parent().expect("parent")).expect("mkdir");
            std::fs::write(&conf, &fixed.text).expect("write");
            checked += 1;
            if let Err(e) = nginx_t(&bin, dir.path(), &conf) {
                failures.push(format!(
                    "rules/{id}.md example `{}`: nginx -t refuses the fixed text:\n{e}",
                    fixed.example
                ));
            }
        }
    }
    assert!(checked >= 20, "only {checked} fixed examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Copy a folder tree.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else if e.file_type()?.is_file() {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// Lint `root` in a copy of its folder; when nginx accepts the copy, apply every fix of this
/// pack (unsafe ones included) and run nginx -t again. Returns the number of fixes applied.
fn fix_and_test(bin: &Path, folder: &Path, root_rel: &Path) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let copy = dir.path().join("c");
    copy_tree(folder, &copy).map_err(|e| e.to_string())?;
    let conf = copy.join(root_rel);
    if nginx_t(bin, &copy, &conf).is_err() {
        return Ok(0);
    }
    let (ws, diags) = lint_root(&conf);
    let ours: Vec<Diagnostic> = diags
        .into_iter()
        .filter(|d| super::RULES.iter().any(|r| r.meta().id == d.rule))
        .collect();
    let chosen = select_fixes(&ours, Applicability::Unsafe);
    let mut by_file: BTreeMap<crate::source::FileId, Vec<&Edit>> = BTreeMap::new();
    for d in &chosen {
        for e in d.fix.iter().flat_map(|f| &f.edits) {
            by_file.entry(e.file).or_default().push(e);
        }
    }
    for (file, edits) in &by_file {
        let f = ws.files.get(*file);
        std::fs::write(&f.path, apply_edits(&f.text, edits)).map_err(|e| e.to_string())?;
    }
    if chosen.is_empty() {
        return Ok(0);
    }
    nginx_t(bin, &copy, &conf).map(|_| chosen.len())
}

#[test]
fn fixed_corpus_configurations_pass_nginx_t() {
    let Some(bin) = nginx() else {
        eprintln!("skipping: nginx not found (set GATELINT_NGINX)");
        return;
    };
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut applied = 0;
    let corpus = crate_dir.join("../shared/corpus");
    match std::fs::read_to_string(corpus.join("MANIFEST.tsv")) {
        Err(_) => eprintln!(
            "skipping the real corpus: not found at {}",
            corpus.display()
        ),
        Ok(manifest) => {
            for line in manifest.lines().skip(1) {
                let cols: Vec<&str> = line.split('\t').collect();
                if cols.len() < 3 || cols[1] != "nginx" || cols[2] != "yes" {
                    continue;
                }
                let path = corpus.join(cols[0]);
                let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
                    continue;
                };
                match fix_and_test(&bin, folder, Path::new(name)) {
                    Ok(n) => applied += n,
                    Err(e) => failures.push(format!("{}: {e}", cols[0])),
                }
            }
        }
    }
    let script = crate_dir.join("../shared/bench/gen_nginx_corpus.py");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("gen");
    let generated = script.is_file()
        && Command::new("python3")
            .arg(&script)
            .args(["--vhosts", "300", "--out"])
            .arg(&out)
            .output()
            .is_ok_and(|o| o.status.success());
    if generated {
        match fix_and_test(&bin, &out, Path::new("nginx.conf")) {
            Ok(n) => {
                assert!(n > 10, "only {n} fixes applied to the generated corpus");
                applied += n;
            }
            Err(e) => failures.push(format!("generated corpus: {e}")),
        }
    } else {
        eprintln!("skipping the generated corpus: python3 or the generator is missing");
    }
    eprintln!("{applied} fixes applied and accepted by nginx -t");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
