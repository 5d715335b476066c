//! `gatelint parse --kind php-ini|fpm`: print the lossless tree of a php.ini or FPM file
//! (with the files it includes) and the values PHP or FPM reads from it.

use super::{KindArg, ParseArgs, ParseFormat, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};
use crate::model::fpm::{self, DiskSource, FpmConfig, FpmOptions};
use crate::model::php::{PhpIni, Sapi};
use crate::source::{FileId, Files, SourceFile, TextRange};
use crate::syntax::ini::{IniTree, NodeKind, Value};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io::Write;

/// Parse a php.ini or FPM file and print its tree and evaluated values. Exit 0 when no
/// file has a syntax error, 1 when one has (everything is still printed), 2 when the file
/// cannot be read or the format does not apply.
pub fn run(args: &ParseArgs, kind: KindArg, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if args.format != ParseFormat::Json {
        let _ = writeln!(
            err,
            "error: --format crossplane applies to nginx files only"
        );
        return EXIT_FAILURE;
    }
    let mut files = Files::new();
    let (doc, has_errors) = match kind {
        KindArg::Fpm => {
            let mut opts = FpmOptions::default();
            if let Some(p) = &args.prefix {
                opts.prefix = p.clone();
            }
            let cfg = match fpm::load(&args.file, &DiskSource, &mut files, &opts) {
                Ok(c) => c,
                Err(e) => return super::parse::unreadable(&args.file, &e, err),
            };
            let errors = cfg.trees.iter().any(|(_, t)| t.has_errors());
            (fpm_json(&cfg, &files), errors)
        }
        _ => {
            let text = match SourceFile::read(&args.file) {
                Ok(f) => f,
                Err(e) => return super::parse::unreadable(&args.file, &e, err),
            };
            let id = files.add(text);
            let mut ini = PhpIni::new(Sapi::Fpm);
            ini.add_file(id, &files, &BTreeMap::new());
            let errors = ini.trees.iter().any(|(_, t)| t.has_errors());
            (php_json(&ini, &files), errors)
        }
    };
    let mut text = match serde_json::to_string_pretty(&doc) {
        Ok(t) => t,
        Err(_) => return EXIT_FAILURE,
    };
    text.push('\n');
    if out.write_all(text.as_bytes()).is_err() {
        return EXIT_FAILURE;
    }
    if has_errors {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn range_json(files: &Files, file: FileId, r: TextRange) -> Json {
    let f = files.get(file);
    let s = f.line_col(r.start);
    let e = f.line_col(r.end);
    json!({
        "start": {"line": s.line, "column": s.column, "offset": s.offset},
        "end": {"line": e.line, "column": e.column, "offset": e.offset},
    })
}

fn value_json(files: &Files, file: FileId, v: &Value) -> Json {
    json!({
        "text": lossy(&v.text),
        "form": v.form,
        "uses_env": v.uses_env,
        "quoted": v.quoted,
        "range": range_json(files, file, v.range),
    })
}

/// The tree of one file.
fn tree_json(files: &Files, file: FileId, tree: &IniTree) -> Json {
    let mut nodes = Vec::new();
    for n in &tree.nodes {
        let mut o = Map::new();
        let kind = match &n.kind {
            NodeKind::Trivia => "trivia",
            NodeKind::Section(s) => {
                o.insert("name".into(), json!(lossy(&s.name)));
                o.insert("name_range".into(), range_json(files, file, s.name_range));
                "section"
            }
            NodeKind::Entry(e) => {
                o.insert("key".into(), json!(e.key_str()));
                o.insert("key_range".into(), range_json(files, file, e.key_range));
                if let Some(ix) = &e.index {
                    o.insert(
                        "index".into(),
                        json!({"name": lossy(&ix.name), "range": range_json(files, file, ix.range)}),
                    );
                }
                o.insert("value".into(), value_json(files, file, &e.value));
                "entry"
            }
            NodeKind::BareLabel(b) => {
                o.insert("label".into(), json!(lossy(&b.label)));
                "bare-label"
            }
            NodeKind::Error => "error",
            NodeKind::Unread => "unread",
        };
        o.insert("kind".into(), json!(kind));
        o.insert("range".into(), range_json(files, file, n.range));
        if let Some(c) = n.comment {
            o.insert("comment".into(), range_json(files, file, c));
        }
        if n.dropped {
            o.insert("dropped".into(), json!(true));
        }
        nodes.push(Json::Object(o));
    }
    let errors: Vec<Json> = tree
        .errors
        .iter()
        .map(|e| {
            json!({
                "message": e.error.message,
                "php_line": e.php_line,
                "range": range_json(files, file, e.error.range),
            })
        })
        .collect();
    let truncations: Vec<Json> = tree
        .truncations
        .iter()
        .map(|r| range_json(files, file, *r))
        .collect();
    json!({
        "path": files.get(file).display_path(),
        "dialect": tree.dialect,
        "nodes": nodes,
        "errors": errors,
        "truncations": truncations,
    })
}

fn php_json(ini: &PhpIni, files: &Files) -> Json {
    let trees: Vec<Json> = ini
        .trees
        .iter()
        .map(|(f, t)| tree_json(files, *f, t))
        .collect();
    let mut values = Map::new();
    for (k, s) in ini.iter() {
        let mut o = json!({"value": s.value});
        if let Some(f) = s.file {
            o["range"] = range_json(files, f, s.value_range);
        }
        values.insert(k.clone(), o);
    }
    let ext: Vec<Json> = ini
        .extensions
        .iter()
        .map(|s| json!({"key": s.key, "value": s.value}))
        .collect();
    let scoped: Vec<Json> = ini
        .scoped
        .iter()
        .map(|(sec, s)| json!({"section": sec, "key": s.key, "value": s.value}))
        .collect();
    json!({
        "schema_version": 1,
        "kind": "php-ini",
        "files": trees,
        "values": values,
        "extensions": ext,
        "scoped": scoped,
    })
}

fn fpm_json(cfg: &FpmConfig, files: &Files) -> Json {
    let trees: Vec<Json> = cfg
        .trees
        .iter()
        .map(|(f, t)| tree_json(files, *f, t))
        .collect();
    let directive = |d: &fpm::Directive| {
        json!({
            "value": d.value,
            "path": files.get(d.origin.file).display_path(),
            "range": range_json(files, d.origin.file, d.origin.value_range),
        })
    };
    let global: Map<String, Json> = cfg
        .global
        .directives
        .iter()
        .map(|(k, d)| ((*k).to_string(), directive(d)))
        .collect();
    let pools: Vec<Json> = cfg
        .pools
        .iter()
        .map(|p| {
            let dirs: Map<String, Json> = p
                .directives
                .iter()
                .map(|(k, d)| ((*k).to_string(), directive(d)))
                .collect();
            let defines: Vec<Json> = p
                .defines
                .iter()
                .map(|d| {
                    json!({"kind": d.kind, "name": d.name, "value": d.value,
                           "path": files.get(d.origin.file).display_path(),
                           "range": range_json(files, d.origin.file, d.origin.value_range)})
                })
                .collect();
            let env: Map<String, Json> = p
                .env
                .iter()
                .map(|(k, d)| (k.clone(), json!(d.value)))
                .collect();
            json!({
                "name": p.name,
                "listen": p.listen(&cfg.options.prefix),
                "pm": p.pm(),
                "directives": dirs,
                "php_defines": defines,
                "env": env,
            })
        })
        .collect();
    let refusals: Vec<Json> = fpm::startup_refusals(cfg)
        .iter()
        .map(|d| {
            json!({
                "rule": d.rule,
                "severity": d.severity,
                "message": d.message,
                "path": files.get(d.file).display_path(),
                "range": range_json(files, d.file, d.range),
            })
        })
        .collect();
    let warnings: Vec<Json> = cfg
        .load_errors
        .iter()
        .filter(|p| p.severity != crate::diagnostic::Severity::Error)
        .map(|p| {
            json!({"message": p.message, "path": files.get(p.file).display_path(),
                        "range": range_json(files, p.file, p.range)})
        })
        .collect();
    json!({
        "schema_version": 1,
        "kind": "fpm",
        "files": trees,
        "global": global,
        "pools": pools,
        "startup_refusals": refusals,
        "warnings": warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_cli(args: &[&str]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = crate::cli::run(args.iter().copied(), &mut out, &mut err);
        (
            code,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn php_ini_dump_and_exit_codes() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.ini");
        std::fs::write(
            &ok,
            "; c\n[PHP]\nmemory_limit = 256M\nerror_reporting = E_ALL & ~E_NOTICE\n",
        )
        .unwrap();
        let (code, out, _) = run_cli(&[
            "gatelint",
            "parse",
            ok.to_str().unwrap(),
            "--kind",
            "php-ini",
        ]);
        assert_eq!(code, 0);
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(v["values"]["memory_limit"]["value"], "256M");
        assert_eq!(v["values"]["error_reporting"]["value"], "32759");
        assert_eq!(v["values"]["memory_limit"]["range"]["start"]["line"], 3);
        assert_eq!(v["values"]["memory_limit"]["range"]["start"]["column"], 16);
        let bad = dir.path().join("bad.ini");
        std::fs::write(&bad, "a = 1\nurl = http://x/?y=1\nb = 2\n").unwrap();
        let (code, out, _) = run_cli(&[
            "gatelint",
            "parse",
            bad.to_str().unwrap(),
            "--kind",
            "php-ini",
        ]);
        assert_eq!(code, 1);
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["files"][0]["errors"][0]["message"],
            "syntax error, unexpected '='"
        );
        assert!(v["values"].get("b").is_none());
        let (code, _, err) = run_cli(&[
            "gatelint",
            "parse",
            "/nonexistent/x.ini",
            "--kind",
            "php-ini",
        ]);
        assert_eq!(code, 2);
        assert!(err.contains("cannot read"));
    }

    #[test]
    fn fpm_dump_with_pools_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("php-fpm.conf");
        std::fs::write(
            &main,
            format!("[global]\ninclude={}/pool.d/*.conf\n", dir.path().display()),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("pool.d")).unwrap();
        std::fs::write(
            dir.path().join("pool.d/www.conf"),
            "[www]\nuser=www-data\nlisten = /var/run/php/$pool.sock\npm = dynamic\npm.max_children = 4\npm.start_servers = 9\npm.min_spare_servers = 1\npm.max_spare_servers = 3\nphp_admin_value[memory_limit] = 64M\n",
        )
        .unwrap();
        let (code, out, _) =
            run_cli(&["gatelint", "parse", main.to_str().unwrap(), "--kind", "fpm"]);
        assert_eq!(code, 0, "{out}");
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(v["files"].as_array().unwrap().len(), 2);
        let pool = &v["pools"][0];
        assert_eq!(pool["name"], "www");
        assert_eq!(pool["listen"]["normalized"], "/run/php/www.sock");
        assert_eq!(pool["php_defines"][0]["value"], "64M");
        assert_eq!(
            v["startup_refusals"][0]["rule"],
            "fpm-pm-start-servers-out-of-range"
        );
        assert_eq!(v["startup_refusals"][0]["range"]["start"]["line"], 6);
    }

    #[test]
    fn snapshot_php_ini_fixture() {
        let (code, out, _) = run_cli(&[
            "gatelint",
            "parse",
            "testdata/ini/php/quoting.ini",
            "--kind",
            "php-ini",
        ]);
        assert_eq!(code, 0);
        let v: Json = serde_json::from_str(&out).unwrap();
        insta::assert_json_snapshot!("php_ini_quoting_values", v["values"]);
        assert_eq!(v["values"]["extension_dir"]["value"], "C:\\php\\ext\\");
        assert_eq!(
            v["values"]["sendmail_path"]["value"],
            "/usr/sbin/sendmail -t -i -fwww@example.com"
        );
        assert_eq!(v["values"]["# memory_limit"]["value"], "1G");
        let (code, out, _) = run_cli(&[
            "gatelint",
            "parse",
            "testdata/ini/php/syntax-error.ini",
            "--kind",
            "php-ini",
        ]);
        assert_eq!(code, 1);
        let v: Json = serde_json::from_str(&out).unwrap();
        insta::assert_json_snapshot!("php_ini_syntax_error_tree", v);
    }

    #[test]
    fn snapshot_fpm_fixture() {
        let (code, out, _) = run_cli(&[
            "gatelint",
            "parse",
            "testdata/ini/fpm/php-fpm.conf",
            "--kind",
            "fpm",
            "--prefix",
            ".",
        ]);
        assert_eq!(code, 0);
        let v: Json = serde_json::from_str(&out).unwrap();
        insta::assert_json_snapshot!("fpm_fixture_pools", v["pools"]);
        assert_eq!(v["pools"][0]["listen"]["port"], 9000);
    }
}
