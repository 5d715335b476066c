//! Huge, hostile and failing input: every case is checked completely or refused loudly,
//! and nothing from such input reaches the reader's terminal raw.

use crate::{gatelint, run};
use std::path::Path;

/// A folder `nginx/` inside a fresh temporary folder, with `name` holding `text`.
fn nginx_file(name: &str, text: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("nginx");
    std::fs::create_dir_all(&folder).expect("mkdir");
    let path = folder.join(name);
    std::fs::write(&path, text).expect("write");
    (dir, path)
}

#[test]
fn a_finding_far_along_one_long_line_is_placed_and_shown_as_a_piece_of_the_line() {
    // Thousands of server blocks on one line, then an invalid proxy_pass URL past column 65535
    // (where miette cannot draw a label).
    let mut text = b"http { ".to_vec();
    for i in 0..4000 {
        text.extend_from_slice(format!("server {{ listen 80; server_name s{i}; }} ").as_bytes());
    }
    let column = text.len() + 1 + "server { location / { proxy_pass ".len();
    text.extend_from_slice(b"server { location / { proxy_pass foo; } } }\n");
    let (dir, _) = nginx_file("long.conf", &text);

    let (code, stdout, _) = run(dir.path(), &["check", "nginx/long.conf"]);
    assert_eq!(code, 1, "{stdout}");
    let place = format!("nginx/long.conf:1:{column}");
    assert!(stdout.contains(&place), "no {place} in:\n{stdout}");
    assert!(stdout.contains("proxy_pass foo;"), "{stdout}");
    let widest = stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(widest < 400, "a line of {widest} bytes was printed");

    let (_, sarif, _) = run(
        dir.path(),
        &["check", "--format", "sarif", "nginx/long.conf"],
    );
    let log: serde_json::Value = serde_json::from_str(&sarif).expect("sarif is json");
    let columns: Vec<u64> = log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startColumn"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(columns.contains(&(column as u64)), "{columns:?}");
}

#[test]
fn includes_that_multiply_past_the_model_limit_stop_the_run_loudly() {
    // Each level includes the next twice: 2^24 copies of the last file's directive.
    let dir = tempfile::tempdir().expect("tempdir");
    let nginx = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx).expect("mkdir");
    std::fs::write(
        nginx.join("nginx.conf"),
        "events {}\nhttp { include l0.conf; }\n",
    )
    .unwrap();
    for i in 0..24 {
        let next = format!("include l{}.conf;\n", i + 1);
        std::fs::write(nginx.join(format!("l{i}.conf")), next.repeat(2)).unwrap();
    }
    std::fs::write(
        nginx.join("l24.conf"),
        "server { location / { proxy_pass foo; } }\n",
    )
    .unwrap();

    let (code, stdout, stderr) = run(dir.path(), &["check", "nginx/nginx.conf"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("nginx/nginx.conf: not checked: its includes expand it to"),
        "{stderr}"
    );
    assert!(!stdout.contains("no problems"), "{stdout}");
    assert!(stdout.contains("could not be read or checked"), "{stdout}");
}

#[test]
fn an_include_chain_deeper_than_followed_stops_the_run_loudly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nginx = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx).expect("mkdir");
    std::fs::write(
        nginx.join("nginx.conf"),
        "events {}\nhttp { include d0.conf; }\n",
    )
    .unwrap();
    for i in 0..80 {
        std::fs::write(
            nginx.join(format!("d{i}.conf")),
            format!("include d{}.conf;\n", i + 1),
        )
        .unwrap();
    }
    std::fs::write(
        nginx.join("d80.conf"),
        "server { location / { proxy_pass foo; } }\n",
    )
    .unwrap();

    let (code, stdout, stderr) = run(dir.path(), &["check", "nginx/nginx.conf"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("nginx/nginx.conf: not checked: the include at nginx/d"),
        "{stderr}"
    );
    assert!(
        stderr.contains("is nested more than 64 files deep"),
        "{stderr}"
    );
}

/// Every file under `dir` with its bytes, by path relative to it.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

/// A copy of the example stack in a fresh temporary folder.
fn example_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("example");
    crate::journeys::copy_tree(&crate::top().join("testdata/stacks/example"), &tree);
    (dir, tree)
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_fix_that_cannot_write_every_file_writes_none_and_claims_nothing() {
    let (dir, tree) = example_copy();
    let before = snapshot(&tree);
    // The PHP side cannot be written: its folders are read-only for the user who runs the
    // fix. Root may write anywhere, so as root the fix runs as `nobody`, who owns the nginx
    // side only.
    let root = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
        == "0";
    let mut command = if root {
        chmod(dir.path(), 0o755);
        let status = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(tree.join("etc/nginx"))
            .status()
            .expect("chown");
        assert!(status.success());
        // A copy of the binary that nobody can reach, wherever the build folder is.
        let bin = dir.path().join("gatelint");
        std::fs::copy(env!("CARGO_BIN_EXE_gatelint"), &bin).expect("copy the binary");
        chmod(&bin, 0o755);
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        gatelint()
    };
    for d in [
        "etc/php/8.2/fpm/pool.d",
        "etc/php/8.2/fpm",
        "etc/php/8.2",
        "etc/php",
    ] {
        chmod(&tree.join(d), 0o555);
    }
    let out = command
        .current_dir(&tree)
        .args(["check", "--fix", "--unsafe-fixes", "--format", "short", "."])
        .output()
        .expect("run gatelint");
    for d in [
        "etc/php",
        "etc/php/8.2",
        "etc/php/8.2/fpm",
        "etc/php/8.2/fpm/pool.d",
    ] {
        chmod(&tree.join(d), 0o755);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("error: cannot write etc/php/8.2/fpm/pool.d/www.conf"),
        "{stderr}"
    );
    assert!(stderr.contains("error: no file was changed"), "{stderr}");
    assert!(!stderr.contains("fixed "), "{stderr}");
    // The report is of the files as they are: the findings the fix would have removed.
    assert!(
        stdout.contains("error[fpm-pm-start-servers-out-of-range]"),
        "{stdout}"
    );
    assert_eq!(
        snapshot(&tree),
        before,
        "a file was changed or a temporary file left behind"
    );
}

#[test]
fn a_fix_of_a_buffer_from_stdin_prints_it_and_writes_nothing() {
    let (_dir, tree) = example_copy();
    let before = snapshot(&tree);
    let buffer = std::fs::read(tree.join("etc/nginx/sites-enabled/shop.conf")).unwrap();
    let mut child = gatelint()
        .current_dir(&tree)
        .args(["check", "--fix", "--unsafe-fixes", "--stdin-filename"])
        .arg("etc/nginx/sites-enabled/shop.conf")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gatelint");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&buffer).unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.stdout, buffer, "the buffer was not fixed");
    assert!(printed.contains("server {"), "{printed}");
    assert_eq!(snapshot(&tree), before, "a file on disk was changed");
}

#[test]
fn crossplane_output_of_a_file_with_a_syntax_error_fails_as_crossplane_does() {
    let (dir, _) = nginx_file("bad.conf", b"http {\n  server { listen 80;\n");
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "parse",
            "--kind",
            "nginx",
            "--format",
            "crossplane",
            "nginx/bad.conf",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(v["status"], "failed");
    assert_eq!(v["config"][0]["status"], "failed");
    assert_eq!(v["config"][0]["parsed"], serde_json::json!([]));
    assert_eq!(
        v["errors"][0]["error"],
        "unexpected end of file, expecting \"}\" in nginx/bad.conf:2"
    );
    // crossplane names the line of the last token it read.
    assert_eq!(v["errors"][0]["line"], 2);
}

#[test]
fn parse_of_a_folder_is_a_clear_error_and_prints_nothing() {
    let (dir, _) = nginx_file("a.conf", b"events {}\n");
    for format in ["json", "crossplane"] {
        let (code, stdout, stderr) = run(
            dir.path(),
            &["parse", "--kind", "nginx", "--format", format, "nginx"],
        );
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert_eq!(stdout, "");
        assert_eq!(
            stderr.trim(),
            "error: cannot read nginx: a folder, not a regular file"
        );
    }
}

#[test]
fn bytes_a_terminal_acts_on_are_printed_as_escapes() {
    // An OSC sequence that would retitle the terminal, and a BEL, inside a config line.
    let (dir, _) = nginx_file(
        "e.conf",
        b"http {\n  server {\n    location / { proxy_pass f\x1b]0;pwned\x07oo; }\n  }\n}\n",
    );
    for format in ["human", "short", "github"] {
        let out = gatelint()
            .current_dir(dir.path())
            .args([
                "check",
                "--kind",
                "nginx",
                "--format",
                format,
                "nginx/e.conf",
            ])
            .output()
            .expect("run gatelint");
        assert_eq!(out.status.code(), Some(1));
        let raw = out.stdout.iter().any(|b| *b == 0x1b || *b == 0x07);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!raw, "{format}: raw control bytes in\n{text}");
        assert!(
            text.contains(r#"unknown directive "pwned\x07oo""#),
            "{format}: {text}"
        );
    }
    // The snippet shows the escapes, and the label still lies under the flagged word.
    let (_, human, _) = run(dir.path(), &["check", "--kind", "nginx", "nginx/e.conf"]);
    // The second finding (by column) is the unknown directive's.
    let lines: Vec<&str> = human.lines().collect();
    let shown = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(r"proxy_pass f\x1b]0;pwned\x07oo;"))
        .map(|(i, _)| i)
        .nth(1)
        .unwrap();
    let (line, marks) = (lines[shown], lines[shown + 1]);
    let at = line.find("pwned").unwrap();
    assert_eq!(marks.find('^'), Some(at), "{human}");
    assert_eq!(marks.matches('^').count(), r"pwned\x07oo".len(), "{human}");
}

#[test]
fn an_if_without_its_closing_parenthesis_is_refused_as_nginx_refuses_it() {
    let (dir, _) = nginx_file(
        "nginx.conf",
        b"events {}\nhttp { server { if ($x { return 403; } } }\n",
    );
    let (code, stdout, _) = run(
        dir.path(),
        &["check", "--format", "short", "nginx/nginx.conf"],
    );
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(
        stdout.trim(),
        "nginx/nginx.conf:2:20: error[nginx-invalid-value] invalid condition \"$x\""
    );
}

/// Run `gatelint` in `cwd`, failing the test if it has not finished within a minute
/// (a read that blocks would otherwise hang the suite).
fn run_bounded(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut child = gatelint()
        .current_dir(cwd)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run gatelint");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("gatelint {args:?} did not finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_include_of_proc_or_of_a_file_outside_a_copy_never_prints_its_bytes() {
    const SECRET: &str = "s3cr3t-value-of-the-environment";
    let dir = tempfile::tempdir().expect("tempdir");
    let nginx = dir.path().join("etc/nginx");
    std::fs::create_dir_all(&nginx).unwrap();
    std::fs::write(
        nginx.join("nginx.conf"),
        "events {}\nhttp {\n  include /proc/self/environ;\n  include /etc/passwd;\n}\n",
    )
    .unwrap();
    for format in ["human", "short", "github", "json", "sarif"] {
        let (code, stdout, stderr) = run_bounded(
            dir.path(),
            &["check", "--format", format, "."],
            &[("GATELINT_TEST_SECRET", SECRET)],
        );
        assert_eq!(code, 1, "{format}: {stdout}{stderr}");
        let all = format!("{stdout}{stderr}");
        assert!(
            !all.contains(SECRET),
            "{format}: the environment was printed:\n{all}"
        );
        // /etc/passwd of this machine is not the copy's: it is missing, not read.
        assert!(
            !all.contains("root:x:0:0"),
            "{format}: the host's /etc/passwd was read:\n{all}"
        );
        if format == "short" {
            assert!(
                stdout.contains("etc/nginx/nginx.conf:3:3: error[include-error]"),
                "{stdout}"
            );
            assert!(stdout.contains("/proc"), "{stdout}");
            assert!(
                stdout.contains("etc/nginx/nginx.conf:4:3: error[include-error]"),
                "{stdout}"
            );
        }
    }
}

#[test]
fn fifos_and_devices_are_refused_by_name_without_waiting() {
    let (dir, _) = nginx_file(
        "nginx.conf",
        b"events {}\nhttp { include conf.d/*.conf; }\n",
    );
    let conf_d = dir.path().join("nginx/conf.d");
    std::fs::create_dir_all(&conf_d).unwrap();
    std::fs::write(
        conf_d.join("a.conf"),
        "server { location / { proxy_pass foo; } }\n",
    )
    .unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(conf_d.join("pipe.conf"))
        .status()
        .expect("mkfifo");
    assert!(status.success());

    let (code, stdout, stderr) = run_bounded(
        dir.path(),
        &["check", "--format", "short", "nginx/nginx.conf"],
        &[],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    // The FIFO is named at the include that matched it; the other file is checked.
    assert!(stdout.contains("nginx/conf.d/pipe.conf"), "{stdout}");
    assert!(stdout.contains("a FIFO"), "{stdout}");
    assert!(
        stdout.contains("nginx/conf.d/a.conf:1:34: error[proxy-pass-invalid-url]"),
        "{stdout}"
    );

    // Named directly, with a kind: refused, the run fails.
    let (code, stdout, stderr) = run_bounded(
        dir.path(),
        &["check", "--kind", "nginx", "nginx/conf.d/pipe.conf"],
        &[],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("a FIFO"), "{stderr}");
    let (code, stdout, stderr) =
        run_bounded(dir.path(), &["check", "--kind", "nginx", "/dev/zero"], &[]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("a device"), "{stderr}");
}

#[test]
fn a_binary_file_is_reported_by_name_without_its_bytes() {
    let (dir, _) = nginx_file(
        "nginx.conf",
        b"events {}\nhttp { include conf.d/*.conf; }\n",
    );
    let conf_d = dir.path().join("nginx/conf.d");
    std::fs::create_dir_all(&conf_d).unwrap();
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    binary.extend_from_slice(b"SECRET-BYTES-OF-A-BINARY server { listen 80; }\n");
    std::fs::write(conf_d.join("x.conf"), &binary).unwrap();
    for format in ["human", "short", "json", "sarif", "github"] {
        let (code, stdout, _) = run(
            dir.path(),
            &["check", "--format", format, "nginx/nginx.conf"],
        );
        assert_eq!(code, 1, "{format}: {stdout}");
        assert!(stdout.contains("nginx/conf.d/x.conf"), "{format}: {stdout}");
        assert!(stdout.contains("NUL bytes"), "{format}: {stdout}");
        assert!(!stdout.contains("SECRET-BYTES"), "{format}: {stdout}");
    }
}
