//! In-process tests of every subcommand, output format and exit code, driven through
//! [`run`](super::run) and [`check::run`](super::check::run) with captured streams.

use super::check_args::CheckArgs;
use super::{run, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};
use clap::Parser;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = "testdata/stacks/example";

/// Run the CLI with `args` (without the program name); returns (code, stdout, stderr).
fn cli(args: &[&str]) -> (i32, String, String) {
    cli_stdin(args, b"")
}

/// Run the CLI with `stdin` as standard input (for `check -`).
fn cli_stdin(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = if args.first() == Some(&"check") {
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            check: CheckArgs,
        }
        let wrap = Wrap::try_parse_from(std::iter::once("check").chain(args[1..].iter().copied()))
            .expect("valid check arguments");
        super::check::run(&wrap.check, &mut &stdin[..], &mut out, &mut err, false)
    } else {
        run(
            std::iter::once("gatelint").chain(args.iter().copied()),
            &mut out,
            &mut err,
        )
    };
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// Copy the example stack into a temporary folder.
fn copy_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(Path::new(EXAMPLE), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read example") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The `rule` fields of a JSON report.
fn rules_in(json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(json).expect("json output");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn check_example_in_every_format() {
    for (format, name) in [
        ("human", "check_example_human"),
        ("short", "check_example_short"),
        ("json", "check_example_json"),
        ("sarif", "check_example_sarif"),
        ("github", "check_example_github"),
    ] {
        let (code, out, err) = cli(&["check", EXAMPLE, "--format", format]);
        assert_eq!(code, EXIT_FINDINGS, "{format}: {err}");
        assert!(err.is_empty(), "{format}: {err}");
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn example_findings_are_the_planted_mistakes() {
    let (_, out, _) = cli(&["check", EXAMPLE, "--format", "json"]);
    let mut rules = rules_in(&out);
    rules.sort();
    for expected in [
        "fpm-pm-start-servers-out-of-range",
        "fpm-socket-path-mismatch",
        "proxy-pass-variable-without-resolver",
    ] {
        assert!(
            rules.iter().any(|r| r == expected),
            "{expected} missing: {rules:?}"
        );
    }
}

#[test]
fn json_output_of_the_example_matches_the_schema() {
    let (_, out, _) = cli(&["check", EXAMPLE, "--format", "json"]);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("testdata/schema/gatelint-json-v1.schema.json").expect("schema"),
    )
    .expect("schema json");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("output json");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn select_ignore_and_fail_on() {
    let (code, out, _) = cli(&[
        "check",
        EXAMPLE,
        "--format",
        "json",
        "--select",
        "fpm-socket-path-mismatch",
    ]);
    assert_eq!(code, EXIT_FINDINGS);
    assert_eq!(rules_in(&out), ["fpm-socket-path-mismatch"]);

    let (_, out, _) = cli(&[
        "check",
        EXAMPLE,
        "--format",
        "json",
        "--ignore",
        "fpm-socket-path-mismatch,proxy-pass-variable-without-resolver",
    ]);
    let rules = rules_in(&out);
    assert!(!rules.iter().any(|r| r == "fpm-socket-path-mismatch"));
    assert!(rules
        .iter()
        .any(|r| r == "fpm-pm-start-servers-out-of-range"));

    // Only infos left and --fail-on error: exit 0.
    let (code, _, _) = cli(&[
        "check",
        EXAMPLE,
        "--select",
        "invalid-suppression",
        "--fail-on",
        "error",
    ]);
    assert_eq!(code, EXIT_OK);

    let (code, _, err) = cli(&["check", EXAMPLE, "--select", "fpm-socket-path-mismach"]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(
        err.contains("did you mean `fpm-socket-path-mismatch`"),
        "{err}"
    );
}

#[test]
fn a_missing_path_fails_the_run_but_the_rest_is_linted() {
    let (code, out, err) = cli(&[
        "check",
        "testdata/does-not-exist",
        EXAMPLE,
        "--format",
        "short",
    ]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(err.contains("testdata/does-not-exist"), "{err}");
    assert!(out.contains("fpm-socket-path-mismatch"), "{out}");
}

#[test]
fn a_config_file_with_an_unknown_key_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("temp");
    let cfg = dir.path().join("gatelint.toml");
    std::fs::write(&cfg, "fail-on = \"error\"\n[host]\nmemroy = \"8G\"\n").expect("write");
    let (code, _, err) = cli(&["check", EXAMPLE, "--config", cfg.to_str().expect("utf8")]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(err.contains("gatelint.toml:3:1"), "{err}");
    assert!(err.contains("unknown field `memroy`"), "{err}");
}

#[test]
fn an_unknown_rule_option_is_an_error_with_its_place() {
    let dir = tempfile::tempdir().expect("temp");
    let cfg = dir.path().join("gatelint.toml");
    std::fs::write(&cfg, "[rules.fpm-socket-path-mismatch]\nthreshold = 3\n").expect("write");
    let (code, _, err) = cli(&["check", EXAMPLE, "--config", cfg.to_str().expect("utf8")]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(err.contains("gatelint.toml:2:"), "{err}");
    assert!(
        err.contains("unknown option `threshold` for rule `fpm-socket-path-mismatch`"),
        "{err}"
    );
}

#[test]
fn a_config_file_raises_severity_and_selects() {
    let dir = copy_example();
    std::fs::write(
        dir.path().join("gatelint.toml"),
        "select = [\"fpm-socket-path-mismatch\"]\n[severity]\nfpm-socket-path-mismatch = \"info\"\n",
    )
    .expect("write");
    let root = dir.path().to_str().expect("utf8");
    let (code, out, _) = cli(&["check", root, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["diagnostics"][0]["severity"], "info");
    assert_eq!(v["summary"]["infos"], 1);
    assert_eq!(
        code, EXIT_OK,
        "an info is below the default --fail-on warning"
    );
}

/// Run a program in `dir`; false when it is not installed.
fn try_run(program: &str, args: &[&str], dir: &Path, stdin: &[u8]) -> Option<std::process::Output> {
    use std::io::Write;
    let mut child = std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(stdin).ok()?;
    child.wait_with_output().ok()
}

#[test]
fn diff_applies_with_git_apply_and_the_fixed_findings_are_gone() {
    let dir = copy_example();
    // Lint the copy through a path relative to the temp folder's parent, so the diff's
    // paths are relative and `git apply` runs from there.
    let parent = dir.path().parent().expect("parent").to_path_buf();
    let name = dir
        .path()
        .file_name()
        .expect("name")
        .to_str()
        .expect("utf8");
    let abs = dir.path().to_str().expect("utf8");
    let (code, diff, err) = cli(&["check", abs, "--diff", "--unsafe-fixes"]);
    assert_eq!(code, EXIT_FINDINGS, "{err}");
    assert!(
        diff.contains("+        fastcgi_pass unix:/run/php/php8.2-fpm.sock;"),
        "{diff}"
    );
    assert!(diff.contains("+pm.start_servers = 6"), "{diff}");
    // --diff writes nothing.
    let shop = dir.path().join("etc/nginx/sites-enabled/shop.conf");
    assert!(std::fs::read_to_string(&shop)
        .expect("read")
        .contains("php8.1-fpm.sock"));
    // The diff names the absolute paths without their leading `/`: apply it from `/`.
    let _ = (parent, name);
    match try_run(
        "git",
        &["apply", "-p1", "-"],
        Path::new("/"),
        diff.as_bytes(),
    ) {
        None => eprintln!("git not installed: skipping the git apply half of the test"),
        Some(o) => {
            assert!(
                o.status.success(),
                "git apply: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let (_, out, _) = cli(&["check", abs, "--format", "json"]);
            let rules = rules_in(&out);
            assert!(
                !rules.iter().any(|r| r == "fpm-socket-path-mismatch"),
                "{rules:?}"
            );
            assert!(!rules
                .iter()
                .any(|r| r == "fpm-pm-start-servers-out-of-range"));
            assert!(!rules.iter().any(|r| r == "syntax-error"), "{rules:?}");
        }
    }
}

#[test]
fn fix_writes_safe_fixes_only_and_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = copy_example();
    let abs = dir.path().to_str().expect("utf8");
    let pool = dir.path().join("etc/php/8.2/fpm/pool.d/www.conf");
    std::fs::set_permissions(&pool, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let before = std::fs::read(&pool).expect("read");
    // Without --unsafe-fixes nothing is written: every fix of the example changes a value.
    let (_, _, _) = cli(&["check", abs, "--fix"]);
    assert_eq!(std::fs::read(&pool).expect("read"), before);
    let (code, out, err) = cli(&["check", abs, "--fix", "--unsafe-fixes", "--format", "short"]);
    assert_eq!(
        code, EXIT_FINDINGS,
        "the resolver finding has no fix: {out}"
    );
    assert!(
        err.contains("fixed ") && err.contains(" findings in "),
        "{err}"
    );
    let after = std::fs::read_to_string(&pool).expect("read");
    assert!(after.contains("pm.start_servers = 6"), "{after}");
    let mode = std::fs::metadata(&pool).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert!(!out.contains("fpm-pm-start-servers-out-of-range"), "{out}");
}

#[test]
fn fix_never_writes_a_file_with_a_syntax_error() {
    let dir = tempfile::tempdir().expect("temp");
    let etc = dir.path().join("etc/php/8.2/fpm/pool.d");
    std::fs::create_dir_all(&etc).expect("mkdir");
    // The pool has a fixable refusal and an FPM syntax error.
    let text = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/x.sock\npm = dynamic\npm.max_children = 20\npm.start_servers = 9\npm.min_spare_servers = 2\npm.max_spare_servers = 6\nbroken = (\n";
    let pool = etc.join("www.conf");
    std::fs::write(&pool, text).expect("write");
    let abs = dir.path().to_str().expect("utf8");
    let (_, _, _) = cli(&["check", abs, "--fix", "--unsafe-fixes"]);
    assert_eq!(std::fs::read_to_string(&pool).expect("read"), text);
}

#[test]
fn stdin_with_nginx_t_output_is_split_into_files() {
    let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n\
# configuration file /etc/nginx/nginx.conf:\n\
events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n\
# configuration file /etc/nginx/conf.d/app.conf:\n\
server {\n    location / {\n        proxy_pass http://$backend_host;\n    }\n}\n\n";
    let (code, out, err) = cli_stdin(&["check", "-", "--format", "short"], dump.as_bytes());
    assert_eq!(code, EXIT_FINDINGS, "{err}");
    assert!(
        out.starts_with(
            "/etc/nginx/conf.d/app.conf:3:20: error[proxy-pass-variable-without-resolver]"
        ),
        "{out}"
    );
}

#[test]
fn stdin_filename_lints_the_buffer_in_its_tree() {
    // The editor's unsaved buffer fixes the socket; the pool is read from disk.
    let shop = format!("{EXAMPLE}/etc/nginx/sites-enabled/shop.conf");
    let text = std::fs::read_to_string(&shop)
        .expect("read")
        .replace("php8.1-fpm.sock", "php8.2-fpm.sock");
    let (_, out, err) = cli_stdin(
        &["check", "-", "--stdin-filename", &shop, "--format", "json"],
        text.as_bytes(),
    );
    let rules = rules_in(&out);
    assert!(
        !rules.iter().any(|r| r == "fpm-socket-path-mismatch"),
        "{rules:?} {err}"
    );
    // Without the change the buffer shows the mismatch, found against the pool on disk.
    let original = std::fs::read(&shop).expect("read");
    let (_, out, _) = cli_stdin(
        &["check", "-", "--stdin-filename", &shop, "--format", "json"],
        &original,
    );
    let rules = rules_in(&out);
    assert!(
        rules.iter().any(|r| r == "fpm-socket-path-mismatch"),
        "{rules:?}"
    );
    // Only findings in the buffer's own file are reported.
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    for d in v["diagnostics"].as_array().expect("diagnostics") {
        assert_eq!(d["path"].as_str(), Some(shop.as_str()));
    }
}

#[test]
fn fix_with_stdin_prints_the_fixed_buffer_and_writes_nothing() {
    let dir = copy_example();
    let pool = dir.path().join("etc/php/8.2/fpm/pool.d/www.conf");
    let before = std::fs::read(&pool).expect("read");
    let pool_arg = pool.to_str().expect("utf8");
    let (code, out, err) = cli_stdin(
        &[
            "check",
            "-",
            "--stdin-filename",
            pool_arg,
            "--fix",
            "--unsafe-fixes",
        ],
        &before,
    );
    assert!(out.contains("pm.start_servers = 6"), "{out}");
    assert!(!err.contains("fpm-pm-start-servers-out-of-range"), "{err}");
    assert_eq!(
        std::fs::read(&pool).expect("read"),
        before,
        "the file on disk is untouched"
    );
    assert_ne!(code, EXIT_FAILURE, "{err}");
}

#[test]
fn fix_refuses_nginx_t_output() {
    let dump = "# configuration file /etc/nginx/nginx.conf:\nevents {}\n\n";
    let (code, _, err) = cli_stdin(&["check", "-", "--fix"], dump.as_bytes());
    assert_eq!(code, EXIT_FAILURE);
    assert!(err.contains("use --diff"), "{err}");
}

#[test]
fn suppression_comments_hide_findings_and_unknown_ids_are_reported() {
    let dir = copy_example();
    let media = dir.path().join("etc/nginx/sites-enabled/media.conf");
    let text = std::fs::read_to_string(&media).expect("read").replace(
        "        proxy_pass https://$media_backend;",
        "        # gatelint: ignore[proxy-pass-variable-without-resolver, no-such-rule]\n        proxy_pass https://$media_backend;",
    );
    std::fs::write(&media, text).expect("write");
    let (_, out, _) = cli(&[
        "check",
        dir.path().to_str().expect("utf8"),
        "--format",
        "json",
    ]);
    let rules = rules_in(&out);
    assert!(
        !rules
            .iter()
            .any(|r| r == "proxy-pass-variable-without-resolver"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r == "invalid-suppression"),
        "{rules:?}"
    );
}

#[test]
fn rules_and_explain() {
    let (code, out, _) = cli(&["rules"]);
    assert_eq!(code, EXIT_OK);
    assert!(out.contains("fpm-socket-path-mismatch"));
    let (code, out, _) = cli(&["rules", "--format", "json"]);
    assert_eq!(code, EXIT_OK);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let ids: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids.len(), crate::rules::registry().len());
    assert!(ids.contains(&"syntax-error"));

    let (code, out, _) = cli(&["explain", "fpm-socket-path-mismatch"]);
    assert_eq!(code, EXIT_OK);
    assert!(out.starts_with("# fpm-socket-path-mismatch"), "{out}");
    assert!(!out.contains("+++"));

    let (code, _, err) = cli(&["explain", "fpm-socket-path-mismtch"]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(
        err.contains("did you mean `fpm-socket-path-mismatch`"),
        "{err}"
    );
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    let (code, _, err) = cli(&["frobnicate"]);
    assert_eq!(code, EXIT_FAILURE);
    assert!(err.contains("unrecognized subcommand"), "{err}");
    let (code, out, _) = cli(&["--help"]);
    assert_eq!(code, EXIT_OK);
    assert!(out.contains("check"));
    let _ = PathBuf::new();
}

#[test]
fn a_report_that_cannot_be_written_fails_the_run_with_a_message() {
    // A full disk takes nothing: the report is buffered, so the failure comes at the end.
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        check: CheckArgs,
    }
    let wrap = Wrap::try_parse_from(["check", "--format", "short", EXAMPLE]).unwrap();
    let mut err = Vec::new();
    let code = super::check::run(&wrap.check, &mut &b""[..], &mut Full, &mut err, false);
    assert_eq!(code, EXIT_FAILURE);
    let err = String::from_utf8_lossy(&err);
    assert!(err.contains("cannot write the report: disk full"), "{err}");
}
