//! Loading and refusal tests on in-memory files; the differential test against
//! `php-fpm8.2 -t` is in `differential.rs`.

use super::*;

pub(crate) fn load_mem(src: &MemorySource, root: &str) -> (Files, FpmConfig) {
    let mut files = Files::new();
    let cfg = load(Path::new(root), src, &mut files, &FpmOptions::default()).expect("root");
    (files, cfg)
}

fn rules(cfg: &FpmConfig) -> Vec<(&'static str, String)> {
    startup_refusals(cfg)
        .into_iter()
        .map(|d| (d.rule, d.message))
        .collect()
}

const POOL: &str = "[www]\nuser = nobody\nlisten = /run/php/www.sock\npm = dynamic\npm.max_children = 5\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 3\n";

#[test]
fn includes_reopen_pools_and_prefix_relative_globs() {
    let src = MemorySource::default()
        .with(
            "/etc/php/8.2/fpm/php-fpm.conf",
            "[global]\npid = /run/php/fpm.pid\ninclude=/etc/php/8.2/fpm/pool.d/*.conf\n",
        )
        .with("/etc/php/8.2/fpm/pool.d/www.conf", POOL)
        .with(
            "/etc/php/8.2/fpm/pool.d/zz-docker.conf",
            "[WWW]\nlisten = 9000\nphp_admin_value[memory_limit] = 64M\nphp_value[memory_limit] = 256M\nphp_value[memory_limit] = 512M\nPM.Max_Children = 7\n",
        );
    let (files, cfg) = load_mem(&src, "/etc/php/8.2/fpm/php-fpm.conf");
    assert_eq!(files.len(), 3);
    assert_eq!(cfg.pools.len(), 1);
    let p = &cfg.pools[0];
    assert_eq!(p.headers.len(), 2);
    assert_eq!(p.get("listen").unwrap().value, "9000");
    assert_eq!(p.int("pm.max_children"), Some(7));
    assert_eq!(p.effective_define("memory_limit").unwrap().value, "64M");
    assert!(rules(&cfg).is_empty(), "{:?}", rules(&cfg));
    let d = p.get("pm.max_children").unwrap();
    let f = files.get(d.origin.file);
    assert_eq!(f.slice(d.origin.value_range), b"7");
    let n = d.integer().unwrap();
    assert_eq!((n.value, f.slice(n.range)), (7, &b"7"[..]));
}

#[test]
fn first_php_value_wins_admin_beats_value() {
    let src = MemorySource::default().with(
        "/p.conf",
        format!("{POOL}php_value[memory_limit] = 256M\nphp_value[memory_limit] = 512M\nphp_flag[display_errors] = On\n"),
    );
    let (_, cfg) = load_mem(&src, "/p.conf");
    let p = &cfg.pools[0];
    assert_eq!(p.effective_define("memory_limit").unwrap().value, "256M");
    assert_eq!(p.effective_define("display_errors").unwrap().value, "1");
}

#[test]
fn refusals_with_fpm_messages() {
    let cases: &[(&str, &str, &str)] = &[
        ("pm.start_servers = 2", "pm.start_servers = 8", RULE_START_SERVERS),
        ("pm.max_spare_servers = 3", "pm.max_spare_servers = 6", RULE_SPARE_EXCEEDS),
        ("pm.max_children = 5", "pm.max_children = 0", RULE_PM_REQUIRED),
        ("pm.min_spare_servers = 1", "pm.min_spare_servers = 0", RULE_PM_REQUIRED),
        ("pm = dynamic", "", RULE_PM_REQUIRED),
        ("pm = dynamic", "pm = lazy", RULE_STRUCTURE),
        ("listen = /run/php/www.sock", "", RULE_STRUCTURE),
        ("user = nobody", "user = nobody\n# a comment line", RULE_STRUCTURE),
        ("user = nobody", "user = nobody\n# listen = 9000", RULE_STRUCTURE),
        ("user = nobody", "user = nobody\npm.max_childs = 3", RULE_STRUCTURE),
        (
            "user = nobody",
            "user = nobody\nrequest_slowlog_timeout = 60\nslowlog = /tmp/s.log\nrequest_terminate_timeout = 30",
            RULE_SLOWLOG,
        ),
        ("user = nobody", "user = nobody\nrequest_slowlog_timeout = 5s", RULE_SLOWLOG),
        ("user = nobody", "user = nobody\nslowlog = http://x/?y=1", RULE_STRUCTURE),
        ("user = nobody", "user = nobody\nPHP_VALUE[x] = 1", RULE_STRUCTURE),
        ("user = nobody", "user = nobody\nclear_env = Yes\nclear_env = \"Yes\"", RULE_STRUCTURE),
    ];
    for (from, to, rule) in cases {
        let text = POOL.replace(from, to);
        let src = MemorySource::default().with("/p.conf", text.clone());
        let (_, cfg) = load_mem(&src, "/p.conf");
        let r = rules(&cfg);
        assert_eq!(r.len(), 1, "{text}\n{r:?}");
        assert_eq!(r[0].0, *rule, "{text}\n{r:?}");
    }
    let text = POOL.replace("pm.start_servers = 2", "pm.start_servers = 8");
    let src = MemorySource::default().with("/p.conf", text);
    let (files, cfg) = load_mem(&src, "/p.conf");
    let d = &startup_refusals(&cfg)[0];
    assert_eq!(
        d.message,
        "[pool www] pm.start_servers(8) must not be less than pm.min_spare_servers(1) and not greater than pm.max_spare_servers(3)"
    );
    assert_eq!(files.get(d.file).slice(d.range), b"8");
    let fix = d.fix.as_ref().unwrap();
    assert_eq!(fix.edits[0].replacement, "3");
    assert_eq!(fix.edits[0].range, d.range);
}

#[test]
fn duplicate_listen_across_pools() {
    let two = format!("{POOL}{}", POOL.replace("[www]", "[b]"));
    let src = MemorySource::default().with("/p.conf", two);
    let (_, cfg) = load_mem(&src, "/p.conf");
    let r = rules(&cfg);
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].0, RULE_DUP_LISTEN);
    assert_eq!(
        r[0].1,
        "[pool b] unable to set listen address as it's already used in another pool 'www'"
    );
    let eq = format!(
        "{}{}",
        POOL.replace("/run/php/www.sock", "9000"),
        POOL.replace("[www]", "[b]")
            .replace("/run/php/www.sock", "127.0.0.1:9000")
    );
    let src = MemorySource::default().with("/p.conf", eq);
    let (_, cfg) = load_mem(&src, "/p.conf");
    let d = startup_refusals_detailed(&cfg);
    assert_eq!(d.len(), 1);
    assert!(!d[0].caught_by_test);
}

#[test]
fn include_problems_and_cycles() {
    let src = MemorySource::default()
        .with("/etc/fpm.conf", "[global]\ninclude = /etc/nothere.conf\ninclude=/etc/missing/*.conf\ninclude=/etc/fpm.conf\n");
    let (_, cfg) = load_mem(&src, "/etc/fpm.conf");
    let msgs: Vec<_> = cfg.load_errors.iter().map(|p| p.message.clone()).collect();
    assert!(msgs
        .iter()
        .any(|m| m.starts_with("Nothing matches the include pattern '/etc/nothere.conf'")));
    assert!(msgs
        .iter()
        .any(|m| m.starts_with("Unable to globalize '/etc/missing/*.conf' (ret=2)")));
    assert!(msgs
        .iter()
        .any(|m| m == "failed to include more than 5 files recursively"));
    let r = rules(&cfg);
    assert!(r.iter().any(|(_, m)| m.starts_with("No pool defined")));
    // Relative patterns resolve against the prefix.
    let src = MemorySource::default()
        .with("/etc/fpm.conf", "include=etc/pool.d/*.conf\n")
        .with("/usr/etc/pool.d/a.conf", POOL);
    let (_, cfg) = load_mem(&src, "/etc/fpm.conf");
    assert_eq!(cfg.pools.len(), 1);
}

#[test]
fn pool_name_and_global_pool_variable() {
    let src = MemorySource::default().with(
        "/p.conf",
        "[global]\npid = /run/$pool.pid\n[site]\nuser=u\nlisten = /run/php/$pool.sock\npm=static\npm.max_children=2\nenv[A] = $pool\n",
    );
    let (_, cfg) = load_mem(&src, "/p.conf");
    assert_eq!(
        cfg.pools[0].get("listen").unwrap().value,
        "/run/php/site.sock"
    );
    assert_eq!(cfg.pools[0].env[0].1.value, "site");
    let r = rules(&cfg);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0]
        .1
        .contains("Can't use '$pool' when the pool is not defined"));
}

/// Every FPM corpus file loads; where the corpus notes what `php-fpm8.2 -t -y FILE` said
/// about the file alone, we say the same.
#[test]
fn corpus_files_agree_with_recorded_fpm_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST.tsv")) else {
        eprintln!("SKIP: corpus not found at {}", root.display());
        return;
    };
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || !cols[0].starts_with("fpm/") {
            continue;
        }
        let (path, kind, note) = (cols[0], cols[1], cols[3]);
        let full = root.join(path);
        let opts = FpmOptions {
            master_is_root: !note.contains("run as non-root user"),
            ..FpmOptions::default()
        };
        let mut files = Files::new();
        let cfg = load(&full, &DiskSource, &mut files, &opts).expect("corpus file");
        let ours: Vec<String> = startup_refusals_detailed(&cfg)
            .into_iter()
            .filter(|r| r.caught_by_test)
            .map(|r| r.diagnostic.message)
            .collect();
        if kind != "fpm"
            || !note.starts_with("php-fpm8.2 -t -y FILE")
            || note.contains("redirected")
            || note.contains("failed to open error_log")
        {
            continue;
        }
        let verdict = note.trim_start_matches("php-fpm8.2 -t -y FILE");
        if verdict.starts_with(" ok") {
            if ours.iter().any(|m| m.contains("Unable to globalize '/etc")) {
                eprintln!("SKIP {path}: its include folder is not on this machine");
                continue;
            }
            assert!(
                ours.is_empty(),
                "{path}: FPM accepted it, we refuse: {ours:?}"
            );
        } else {
            let start = ["ERROR: ", "ALERT: "]
                .iter()
                .filter_map(|k| verdict.find(k).map(|i| i + k.len()))
                .min()
                .unwrap_or(0);
            let msg = verdict[start..].split(';').next().unwrap_or("");
            let core = match msg.strip_prefix('[') {
                Some(rest) if !rest.starts_with("pool ") => {
                    rest.split_once("] ").map_or(msg, |(_, m)| m)
                }
                _ => msg,
            };
            let core = core.split(" from ").next().unwrap_or(core);
            let core = core.split(" '/").next().unwrap_or(core);
            assert!(
                ours.iter().any(|m| m.contains(core)),
                "{path}: FPM said {msg:?}, we said {ours:?}"
            );
        }
        checked += 1;
    }
    eprintln!("checked {checked} corpus FPM files against recorded verdicts");
    assert!(checked >= 8);
}

#[test]
fn snapshot_refusals_fixture() {
    let mut files = Files::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ini/fpm/refusals.conf");
    let cfg = load(&path, &DiskSource, &mut files, &FpmOptions::default()).expect("fixture");
    let text: Vec<String> = startup_refusals(&cfg)
        .iter()
        .map(|d| {
            let lc = files.get(d.file).line_col(d.range.start);
            let fix = d
                .fix
                .as_ref()
                .map(|f| format!(" [fix: {} -> {:?}]", f.message, f.edits[0].replacement))
                .unwrap_or_default();
            format!("{}:{} {} {}{}", lc.line, lc.column, d.rule, d.message, fix)
        })
        .collect();
    insta::assert_snapshot!("refusals_fixture", text.join("\n"));
}

#[test]
fn fragment_linted_inside_an_initial_pool() {
    let src = MemorySource::default().with(
        "/frag.conf",
        "user = nobody\nlisten = 9000\npm = static\npm.max_children = 2\n",
    );
    let (_, cfg) = load_mem(&src, "/frag.conf");
    assert!(rules(&cfg).iter().any(|(_, m)| m == "unknown entry 'user'"));
    let mut files = Files::new();
    let opts = FpmOptions {
        initial_pool: Some("www".into()),
        ..FpmOptions::default()
    };
    let cfg = load(Path::new("/frag.conf"), &src, &mut files, &opts).unwrap();
    assert!(rules(&cfg).is_empty(), "{:?}", rules(&cfg));
    assert_eq!(cfg.pools[0].int("pm.max_children"), Some(2));
}
