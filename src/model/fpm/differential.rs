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
        match rng.next() % 25 {
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
            20 if rng.chance(40) => {
                let v = rng.pick(&["@D@/$pool.sock", "@D@/st.sock", "@D@/a.sock", "@D@/b.sock"]);
                set(&mut lines, "pm.status_listen", Some(v.into()));
            }
            20 => {
                let v = rng.pick(&["-1", "0", "1", "64"]);
                set(&mut lines, "pm.max_spawn_rate", Some(v.into()));
            }
            21 => {
                let v = rng.pick(&["10", "-1", "abc", "511"]);
                set(&mut lines, "listen.backlog", Some(v.into()));
            }
            22 => {
                let v = rng.pick(&[
                    "${GATELINT_MAXC}",
                    "\"${GATELINT_MAXC}\"",
                    "${GATELINT_UNSET}",
                    "${GATELINT_MAXC}0",
                ]);
                set(&mut lines, "pm.max_children", Some(v.into()));
            }
            23 => {
                let v = rng.pick(&[
                    "\"@D@/q.sock\"",
                    "'@D@/r.sock'",
                    "@D@/s.sock ; trailing comment",
                    "\"@D@/$pool.sock\"",
                ]);
                set(&mut lines, "listen", Some(v.into()));
            }
            _ => {
                let v = rng.pick(&["'nobody'", "\"nobody\"", "nob\"ody\""]);
                set(&mut lines, "user", Some(v.into()));
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
    match rng.next() % 9 {
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
        5 => {
            // A chain of includes, deeper than FPM allows half of the time.
            let depth = if rng.chance(50) { 4 } else { 6 };
            main.push_str("include = @D@/n1.conf\n");
            for k in 1..depth {
                extra.push((
                    format!("n{k}.conf"),
                    format!("include = @D@/n{}.conf\n", k + 1),
                ));
            }
            extra.push((format!("n{depth}.conf"), pool(rng, "deep", port)));
        }
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
    if std::env::var("GATELINT_DEBUG_FPM").is_ok() {
        eprintln!("cases in {}", dir.path().display());
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let total = 300;
    let mut agree = 0;
    let mut refused = 0;
    let mut compared = 0;
    let mut bad = Vec::new();
    for i in 0..total {
        let c = case(&mut rng, i);
        let d = dir.path().join(format!("c{i:03}"));
        std::fs::create_dir_all(d.join("pool.d")).expect("mkdir");
        let ds = d.display().to_string();
        let main_path = d.join("php-fpm.conf");
        let mut main_text = c.main.replace("@D@", &ds);
        if i % 10 == 3 {
            main_text = main_text.replace('\n', "\r\n");
        }
        if i % 20 == 7 {
            main_text.insert(0, '\u{feff}');
        }
        std::fs::write(&main_path, &main_text).expect("write");
        for (p, t) in &c.extra {
            std::fs::write(d.join(p), t.replace("@D@", &ds)).expect("write");
        }
        let out = Command::new(&fpm)
            .env("GATELINT_MAXC", "6")
            .env_remove("GATELINT_UNSET")
            .args(["-n", "-tt", "-y"])
            .arg(&main_path)
            .output()
            .expect("run php-fpm");
        let fpm_ok = out.status.success();
        let mut files = Files::new();
        let opts = FpmOptions {
            master_is_root: root,
            env_vars: [("GATELINT_MAXC".to_string(), "6".to_string())].into(),
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
        if fpm_ok && ours.is_empty() {
            compared += compare_dump(&cfg, &String::from_utf8_lossy(&out.stderr), i, &mut bad);
        }
        if fpm_ok == ours.is_empty() {
            agree += 1;
        } else {
            bad.push(format!(
                "case {i} ({}):\n{}\n--- php-fpm -t:\n{}--- ours: {:?}",
                main_path.display(),
                main_text,
                String::from_utf8_lossy(&out.stderr),
                ours.iter()
                    .map(|r| &r.diagnostic.message)
                    .collect::<Vec<_>>()
            ));
        }
    }
    if std::env::var("GATELINT_DEBUG_FPM").is_ok() {
        std::mem::forget(dir);
    }
    eprintln!("php-fpm -t agreement: {agree}/{total} generated configs ({refused} refused by FPM); {compared} pool values compared with the -tt dump");
    assert!(
        bad.is_empty(),
        "{} disagreements:\n{}",
        bad.len(),
        bad.join("\n\n")
    );
}

/// Compare the pools' values with FPM's `-tt` dump of an accepted configuration; returns
/// how many values were compared, pushing mismatches to `bad`.
fn compare_dump(cfg: &FpmConfig, dump: &str, case: u32, bad: &mut Vec<String>) -> usize {
    // Section name → (key, value) lines in dump order.
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in dump.lines() {
        let Some(mut rest) = line.split_once("NOTICE: ").map(|(_, r)| r) else {
            continue;
        };
        // With `log_level = debug` FPM adds "pid N, fpm_conf_dump(), line N: ".
        if let Some(i) = rest.find("fpm_conf_dump(), line ") {
            rest = rest[i..].split_once(": ").map_or("", |(_, r)| r);
        }
        if let Some(name) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            sections.push((name.to_string(), Vec::new()));
        } else if let Some(kv) = rest.strip_prefix('\t') {
            if let (Some((_, list)), Some((k, v))) = (sections.last_mut(), kv.split_once(" = ")) {
                list.push((k.to_string(), v.to_string()));
            }
        }
    }
    let mut n = 0;
    for pool in &cfg.pools {
        let Some((_, list)) = sections.iter().find(|(s, _)| *s == pool.name) else {
            bad.push(format!(
                "case {case}: pool {} missing from the -tt dump",
                pool.name
            ));
            continue;
        };
        let theirs = |k: &str| {
            list.iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let pm = pool.pm().map(|p| format!("{p:?}").to_lowercase());
        let int = |k: &str, d: i64| pool.int(k).unwrap_or(d).to_string();
        let mut ours: Vec<(String, Option<String>)> = vec![
            ("pm".into(), pm),
            ("pm.max_children".into(), Some(int("pm.max_children", 0))),
            (
                "pm.max_spawn_rate".into(),
                Some(int("pm.max_spawn_rate", 32)),
            ),
            ("listen".into(), pool.get("listen").map(|d| d.value.clone())),
            ("user".into(), pool.get("user").map(|d| d.value.clone())),
            (
                "request_terminate_timeout".into(),
                Some(format!("{}s", pool.request_terminate_timeout())),
            ),
            (
                "request_slowlog_timeout".into(),
                Some(format!(
                    "{}s",
                    pool.seconds("request_slowlog_timeout").unwrap_or(0)
                )),
            ),
            (
                "catch_workers_output".into(),
                Some(yes_no(pool.flag("catch_workers_output").unwrap_or(false))),
            ),
            (
                "listen.backlog".into(),
                Some(pool.listen_backlog().to_string()),
            ),
        ];
        if pool.pm() == Some(Pm::Dynamic) {
            let min = pool.int("pm.min_spare_servers").unwrap_or(0);
            let max = pool.int("pm.max_spare_servers").unwrap_or(0);
            let start = pool.int("pm.start_servers").filter(|s| *s > 0);
            ours.push(("pm.min_spare_servers".into(), Some(min.to_string())));
            ours.push(("pm.max_spare_servers".into(), Some(max.to_string())));
            ours.push((
                "pm.start_servers".into(),
                Some(start.unwrap_or(min + (max - min) / 2).to_string()),
            ));
        }
        for d in &pool.defines {
            let key = format!(
                "{}[{}]",
                if d.kind.is_admin() {
                    "php_admin_value"
                } else {
                    "php_value"
                },
                d.name
            );
            if let Some(e) = pool.effective_define(&d.name) {
                if e.kind.is_admin() == d.kind.is_admin() {
                    // FPM lists defines in reverse file order: its last line is applied last.
                    ours.push((key, Some(e.value.clone())));
                }
            }
        }
        for (k, d) in &pool.env {
            ours.push((format!("env[{k}]"), Some(d.value.clone())));
        }
        for (k, v) in ours {
            let t = theirs(&k).filter(|t| t != "undefined");
            if t != v {
                bad.push(format!(
                    "case {case}: pool {} {k}: -tt says {t:?}, we say {v:?}",
                    pool.name
                ));
            }
            n += 1;
        }
    }
    n
}
