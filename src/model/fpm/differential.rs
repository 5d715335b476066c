//! Differential test against the real `php-fpm8.2 -t`: generated configurations (mutations
//! of a valid pool) must be accepted by FPM exactly when we find no start-up refusal that
//! `-t` checks.

use super::*;
use std::process::Command;

/// The php-fpm binary, or None (with a visible message) when it is absent.
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
        eprintln!("SKIP: `{name}` not found; FPM differential test skipped");
        None
    }
}

/// xorshift64*: a small deterministic generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One generated case: the main file and extra files, relative to the case directory
/// (`@D@` stands for it).
struct Case {
    main: String,
    extra: Vec<(String, String)>,
}

fn pool(rng: &mut Rng, name: &str, port: u32) -> String {
    let mut lines: Vec<String> = vec![
        format!("[{name}]"),
        "user = nobody".into(),
        "group = nogroup".into(),
        format!("listen = @D@/{name}.sock"),
        "pm = dynamic".into(),
        "pm.max_children = 5".into(),
        "pm.start_servers = 2".into(),
        "pm.min_spare_servers = 1".into(),
        "pm.max_spare_servers = 3".into(),
    ];
    let set = |lines: &mut Vec<String>, key: &str, value: Option<String>| {
        lines.retain(|l| !l.starts_with(&format!("{key} =")));
        if let Some(v) = value {
            lines.push(format!("{key} = {v}"));
        }
    };
    let n = if rng.chance(35) {
        0
    } else {
        1 + rng.next() % 2
    };
    for _ in 0..n {
        match rng.next() % 22 {
            0 => {
                let v = rng.pick(&[
                    "static", "dynamic", "ondemand", "Dynamic", "STATIC", "lazy", "", "-",
                ]);
                set(&mut lines, "pm", (v != "-").then(|| v.to_string()));
            }
            1 => {
                let v = rng.pick(&["0", "-1", "1", "3", "10", "10k", "", "-", "\"4\""]);
                set(
                    &mut lines,
                    "pm.max_children",
                    (v != "-").then(|| v.to_string()),
                );
            }
            2..=4 => {
                let key = rng.pick(&[
                    "pm.start_servers",
                    "pm.min_spare_servers",
                    "pm.max_spare_servers",
                ]);
                let v = rng.pick(&["-1", "0", "1", "2", "3", "4", "6", "8", "-"]);
                set(&mut lines, key, (v != "-").then(|| v.to_string()));
            }
            5 | 6 => {
                let v = match rng.next() % 10 {
                    0 => format!("127.0.0.1:{port}"),
                    1 => format!("[::1]:{port}"),
                    2 => format!("*:{port}"),
                    3 => format!("{port}"),
                    4 => format!("localhost:{port}"),
                    5 => "@D@/$pool.sock".into(),
                    6 => "".into(),
                    7 => "-".into(),
                    8 => "@D@/shared.sock".into(),
                    _ => format!("0.0.0.0:{port}"),
                };
                set(&mut lines, "listen", (v != "-").then_some(v));
            }
            7 | 8 => {
                let s = rng.pick(&["0", "5", "30s", "1m", "-", "5m"]);
                let t = rng.pick(&["0", "10", "20s", "1m", "-1", "-", "2m"]);
                set(
                    &mut lines,
                    "request_slowlog_timeout",
                    (s != "-").then(|| s.to_string()),
                );
                set(
                    &mut lines,
                    "request_terminate_timeout",
                    (t != "-").then(|| t.to_string()),
                );
                if rng.chance(60) {
                    set(&mut lines, "slowlog", Some("@D@/slow.log".into()));
                }
            }
            9 => lines.push(
                rng.pick(&["pm.max_childs = 3", "max_children = 2", "listen.setfib = 1"])
                    .into(),
            ),
            10 => lines.push(
                rng.pick(&["# a comment", "# listen = 9000", "; fine comment", "#"])
                    .into(),
            ),
            11 => {
                let i = 1 + (rng.next() as usize % (lines.len() - 1));
                let l = lines[i].clone();
                lines[i] = match l.split_once(" = ") {
                    Some((k, v)) if rng.chance(50) => format!("{} = {v}", k.to_uppercase()),
                    _ => l.replacen("pm.", "Pm.", 1),
                };
            }
            12 => {
                let v = rng.pick(&[
                    "yes", "Yes", "\"Yes\"", "\"yes\"", "1", "enabled", "off", "None", "\"0\"",
                ]);
                set(&mut lines, "catch_workers_output", Some(v.into()));
            }
            13 => lines.push(
                rng.pick(&[
                    "php_value[memory_limit] = 256M",
                    "php_admin_value[error_log] = @D@/$pool.err",
                    "PHP_VALUE[memory_limit] = 1G",
                    "php_values[x] = 1",
                    "php_flag[display_errors] = maybe",
                    "php_flag[display_errors] = on",
                    "php_value[] = 1",
                    "env[PATH] = /usr/bin",
                    "env[EMPTY] =",
                ])
                .into(),
            ),
            14 => lines.push(
                rng.pick(&[
                    "access.format = a=b",
                    "listen.mode = (0660",
                    "user = \"unterminated",
                    "x",
                ])
                .into(),
            ),
            15 => {
                set(&mut lines, "pm", Some("ondemand".into()));
                let v = rng.pick(&["0", "10s", "0s", "1", "-"]);
                set(
                    &mut lines,
                    "pm.process_idle_timeout",
                    (v != "-").then(|| v.to_string()),
                );
            }
            16 => {
                let v = rng.pick(&["30S", "10x", "", "abc5", "1.5m", "5 m"]);
                set(&mut lines, "request_terminate_timeout", Some(v.into()));
            }
            17 => {
                let key = rng.pick(&["ping.path", "pm.status_path"]);
                let v = rng.pick(&[
                    "/ping",
                    "status",
                    "/",
                    "/st atus",
                    "\"/ping;x\"",
                    "/a-b_c.~",
                ]);
                set(&mut lines, key, Some(v.into()));
            }
            18 => {
                let v = rng.pick(&["30", "-20", "0", "x"]);
                set(&mut lines, "process.priority", Some(v.into()));
            }
            19 => {
                let v = rng.pick(&["-", "", "nobody"]);
                set(&mut lines, "user", (v != "-").then(|| v.to_string()));
            }
            20 => {
                let v = rng.pick(&["-1", "0", "1", "64"]);
                set(&mut lines, "pm.max_spawn_rate", Some(v.into()));
            }
            _ => {
                let v = rng.pick(&["10", "-1", "abc", "511"]);
                set(&mut lines, "listen.backlog", Some(v.into()));
            }
        }
    }
    lines.join("\n") + "\n"
}

fn case(rng: &mut Rng, i: u32) -> Case {
    let port = 20000 + i;
    let mut main = String::from("[global]\nerror_log = @D@/fpm.log\n");
    let mut extra = Vec::new();
    if rng.chance(10) {
        main.push_str(rng.pick(&[
            "log_level = debug\n",
            "log_level = verbose\n",
            "process.max = -1\n",
            "log_limit = 100\n",
            "pid = @D@/$pool.pid\n",
            "daemonize = no\n",
        ]));
    }
    match rng.next() % 8 {
        0 => {
            // Pools spread over an included folder, one reopened.
            main.push_str("include = @D@/pool.d/*.conf\n");
            extra.push(("pool.d/a.conf".into(), pool(rng, "a", port)));
            let b = if rng.chance(50) {
                pool(rng, "b", port + 1000)
            } else {
                "[A]\npm.max_children = 9\n".into()
            };
            extra.push(("pool.d/b.conf".into(), b));
        }
        1 => {
            main.push_str(&pool(rng, "www", port));
            main.push_str(rng.pick(&[
                "include = @D@/nothere.conf\n",
                "include = @D@/nodir/*.conf\n",
                "include = pool.d/*.conf\n",
                "Include = @D@/x.conf\n",
            ]));
        }
        2 => {
            // Two pools, sometimes on one address.
            main.push_str(&pool(rng, "a", port));
            let mut b = pool(rng, "b", port + 1000);
            if rng.chance(60) {
                b = b.replace("@D@/b.sock", "@D@/a.sock");
            }
            main.push_str(&b);
        }
        3 => {
            // A pool file without a section, included into [global] or into a pool.
            if rng.chance(50) {
                main.push_str(&pool(rng, "www", port));
            }
            main.push_str("include = @D@/frag.conf\n");
            extra.push((
                "frag.conf".into(),
                "pm.max_children = 4\nuser = nobody\n".into(),
            ));
        }
        4 => main.push_str("; no pool at all\n"),
        _ => main.push_str(&pool(rng, "www", port)),
    }
    Case { main, extra }
}

#[test]
fn generated_configs_agree_with_php_fpm_t() {
    let Some(fpm) = fpm_binary() else {
        return;
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let total = 300;
    let mut agree = 0;
    let mut refused = 0;
    let mut bad = Vec::new();
    for i in 0..total {
        let c = case(&mut rng, i);
        let d = dir.path().join(format!("c{i:03}"));
        std::fs::create_dir_all(d.join("pool.d")).expect("mkdir");
        let ds = d.display().to_string();
        let main_path = d.join("php-fpm.conf");
        std::fs::write(&main_path, c.main.replace("@D@", &ds)).expect("write");
        for (p, t) in &c.extra {
            std::fs::write(d.join(p), t.replace("@D@", &ds)).expect("write");
        }
        let out = Command::new(&fpm)
            .args(["-n", "-t", "-y"])
            .arg(&main_path)
            .output()
            .expect("run php-fpm");
        let fpm_ok = out.status.success();
        let mut files = Files::new();
        let opts = FpmOptions {
            master_is_root: root,
            ..FpmOptions::default()
        };
        let cfg = load(&main_path, &DiskSource, &mut files, &opts).expect("load");
        let ours: Vec<Refusal> = startup_refusals_detailed(&cfg)
            .into_iter()
            .filter(|r| r.caught_by_test)
            .collect();
        if !fpm_ok {
            refused += 1;
            if std::env::var("GATELINT_DEBUG_FPM").is_ok() {
                let e = String::from_utf8_lossy(&out.stderr);
                let first = e
                    .lines()
                    .find(|l| l.contains("ERROR") || l.contains("ALERT"))
                    .unwrap_or("");
                eprintln!(
                    "REFUSED {}",
                    first.split("] ").skip(1).collect::<Vec<_>>().join("] ")
                );
            }
        }
        if fpm_ok == ours.is_empty() {
            agree += 1;
        } else {
            bad.push(format!(
                "case {i} ({}):\n{}\n--- php-fpm -t:\n{}--- ours: {:?}",
                main_path.display(),
                c.main.replace("@D@", &ds),
                String::from_utf8_lossy(&out.stderr),
                ours.iter()
                    .map(|r| &r.diagnostic.message)
                    .collect::<Vec<_>>()
            ));
        }
    }
    eprintln!("php-fpm -t agreement: {agree}/{total} generated configs ({refused} refused by FPM)");
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n\n")
    );
}
