//! Behaviour the rule docs do not pin down: fix applicability with several pools, path
//! normalisation, the nginx user's origin, the host's memory, php.ini lookup for a lone
//! pool file.

use crate::config::Config;
use crate::diagnostic::{Applicability, Diagnostic, Severity};
use crate::discover::discover;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};

const NGINX: &str = "etc/nginx/nginx.conf";
const POOL: &str = "etc/php/8.2/fpm/pool.d/www.conf";

/// Lint a stack of (path, text) files with `rule` alone, under `config`.
fn run(rule: &str, files: &[(&str, &str)], mut config: Config) -> (Workspace, Vec<Diagnostic>) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (p, t) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, t).expect("write");
    }
    let (inputs, errors) = discover(&[dir.path().to_path_buf()], None);
    assert!(errors.is_empty(), "{errors:?}");
    let plan = Plan {
        inputs,
        root: Some(dir.path().to_path_buf()),
        prefix: None,
        ..Plan::default()
    };
    let ws = Workspace::load(&plan, &mut StackSource::new(plan.root.clone()));
    config.select = Some(vec![rule.to_string()]);
    let diags = lint(&ws, &config);
    (ws, diags)
}

fn pool(name: &str, listen: &str, extra: &str) -> String {
    format!(
        "[{name}]\nuser = www-data\ngroup = www-data\nlisten = {listen}\nlisten.owner = www-data\nlisten.group = www-data\npm = static\npm.max_children = 5\n{extra}"
    )
}

fn php_location(pass: &str) -> String {
    format!("user www-data;\nevents {{}}\nhttp {{\n    server {{\n        location ~ \\.php$ {{\n            fastcgi_pass {pass};\n        }}\n    }}\n}}\n")
}

#[test]
fn socket_mismatch_with_several_pools_only_shows_the_choice() {
    let two = format!(
        "{}\n{}",
        pool("www", "/run/php/php8.2-fpm.sock", ""),
        pool("api", "/run/php/api.sock", "")
    );
    let nginx = php_location("unix:/run/php/php8.1-fpm.sock");
    let (_, d) = run(
        "fpm-socket-path-mismatch",
        &[(NGINX, &nginx), (POOL, &two)],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    let fix = d[0].fix.as_ref().expect("a fix");
    assert_eq!(fix.applicability, Applicability::DisplayOnly);
    // The closest socket is proposed.
    assert_eq!(fix.edits[0].replacement, "/run/php/php8.2-fpm.sock");
    assert_eq!(d[0].related.len(), 2);
    assert!(d[0]
        .help
        .as_deref()
        .unwrap_or("")
        .contains("/run/php/api.sock"));
}

#[test]
fn socket_mismatch_treats_var_run_as_run_and_the_alias_as_info() {
    let one = pool("www", "/run/php/php8.2-fpm.sock", "");
    let (_, d) = run(
        "fpm-socket-path-mismatch",
        &[
            (NGINX, &php_location("unix:/var/run/php/php8.2-fpm.sock")),
            (POOL, &one),
        ],
        Config::default(),
    );
    assert!(d.is_empty(), "{d:?}");
    let (_, d) = run(
        "fpm-socket-path-mismatch",
        &[
            (NGINX, &php_location("unix:/run/php/php-fpm.sock")),
            (POOL, &one),
        ],
        Config::default(),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Info);
    assert_eq!(
        d[0].fix.as_ref().map(|f| f.applicability),
        Some(Applicability::Unsafe)
    );
}

#[test]
fn socket_mismatch_reaches_through_upstream_blocks() {
    let nginx = "events {}\nhttp {\n    upstream php {\n        server unix:/run/php/php8.1-fpm.sock;\n    }\n    server {\n        location ~ \\.php$ {\n            fastcgi_pass php;\n        }\n    }\n}\n";
    let (ws, d) = run(
        "fpm-socket-path-mismatch",
        &[
            (NGINX, nginx),
            (POOL, &pool("www", "/run/php/php8.2-fpm.sock", "")),
        ],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    let line = ws.files.get(d[0].file).line_col(d[0].range.start).line;
    assert_eq!(line, 4, "reported at the upstream's server line");
}

#[test]
fn tcp_mismatch_with_several_pools_is_display_only() {
    let two = format!(
        "{}\n{}",
        pool("www", "127.0.0.1:9001", ""),
        pool("api", "127.0.0.1:9002", "")
    );
    let (_, d) = run(
        "fpm-tcp-endpoint-mismatch",
        &[(NGINX, &php_location("127.0.0.1:9000")), (POOL, &two)],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    let fix = d[0].fix.as_ref().expect("a fix");
    assert_eq!(fix.applicability, Applicability::DisplayOnly);
    assert_eq!(fix.edits[0].replacement, "127.0.0.1:9001");
    // localhost reaches a pool on every address; [::1] does not reach 127.0.0.1.
    let (_, d) = run(
        "fpm-tcp-endpoint-mismatch",
        &[(NGINX, &php_location("[::1]:9001")), (POOL, &two)],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn permission_findings_name_where_the_user_comes_from() {
    let bare = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = 5\n";
    // nginx's `user` directive: an error, related to that line.
    let (_, d) = run(
        "fpm-socket-owner-unset",
        &[
            (NGINX, &php_location("unix:/run/php/php8.2-fpm.sock")),
            (POOL, bare),
        ],
        Config::default(),
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Error);
    assert!(d[0].related.iter().any(|r| r.message.contains("www-data")));
    // No nginx in the run: assumed www-data, a warning that says so.
    let (_, d) = run("fpm-socket-owner-unset", &[(POOL, bare)], Config::default());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(d[0].message.contains("assumed"), "{}", d[0].message);
    // [host] nginx_user decides when nginx's configuration is absent.
    let mut config = Config::default();
    config.host.nginx_user = Some("nginx".into());
    let (_, d) = run("fpm-socket-owner-unset", &[(POOL, bare)], config);
    assert_eq!(d[0].severity, Severity::Error);
    let fix = d[0].fix.as_ref().expect("a fix");
    assert!(fix.edits[0].replacement.contains("listen.owner = nginx\n"));
    // Nginx running as root can open anything.
    let root =
        php_location("unix:/run/php/php8.2-fpm.sock").replace("user www-data;", "user root;");
    let (_, d) = run(
        "fpm-socket-owner-unset",
        &[(NGINX, &root), (POOL, bare)],
        Config::default(),
    );
    assert!(d.is_empty());
    // A pool without `user` runs under a non-root master that owns the socket.
    let no_user = bare.replace("user = www-data\n", "");
    let (_, d) = run(
        "fpm-socket-owner-unset",
        &[(POOL, &no_user)],
        Config::default(),
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn overcommit_uses_the_host_memory_and_pool_overrides() {
    let p = "[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = static\npm.max_children = 50\nphp_admin_value[memory_limit] = 256M\n";
    // Unknown host memory: nothing to compare with.
    let (_, d) = run("fpm-memory-overcommit", &[(POOL, p)], Config::default());
    assert!(d.is_empty(), "{d:?}");
    let mut config = Config::default();
    config.host.memory = Some(4 << 30);
    let (_, d) = run("fpm-memory-overcommit", &[(POOL, p)], config);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("50 workers × memory_limit 256M = 12800M"),
        "{}",
        d[0].message
    );
    let fix = d[0].fix.as_ref().expect("a fix");
    assert_eq!(fix.edits[0].replacement, "16"); // 4096M / 256M
    assert_eq!(d[0].related.len(), 1, "points at the php_admin_value line");
    let mut config = Config::default();
    config.host.memory = Some(16 << 30);
    let (_, d) = run("fpm-memory-overcommit", &[(POOL, p)], config);
    assert!(d.is_empty(), "50 × 256M = 12.5G fits in 16G: {d:?}");
}

#[test]
fn a_lone_pool_file_reads_the_php_ini_above_it() {
    let p = pool(
        "www",
        "/run/php/php8.2-fpm.sock",
        "request_terminate_timeout = 20s\n",
    );
    let ini = "max_execution_time = 10\n";
    let (_, d) = run(
        "fpm-terminate-timeout-below-max-execution-time",
        &[(POOL, &p), ("etc/php/8.2/fpm/php.ini", ini)],
        Config::default(),
    );
    assert!(d.is_empty(), "20s is above php.ini's 10: {d:?}");
    // The CLI's php.ini is not PHP-FPM's.
    let (_, d) = run(
        "fpm-terminate-timeout-below-max-execution-time",
        &[
            (POOL, &p),
            ("etc/php/8.2/cli/php.ini", "max_execution_time = 100\n"),
        ],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "PHP-FPM's default 30 applies: {d:?}");
    assert_eq!(
        d[0].fix.as_ref().map(|f| f.edits[0].replacement.as_str()),
        Some("30s")
    );
}

#[test]
fn read_timeout_fix_edits_the_inherited_value() {
    let nginx = "events {}\nhttp {\n    fastcgi_read_timeout 20;\n    server {\n        location ~ \\.php$ {\n            fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n        }\n    }\n}\n";
    let (ws, d) = run(
        "fastcgi-read-timeout-below-php-limit",
        &[
            (NGINX, nginx),
            (POOL, &pool("www", "/run/php/php8.2-fpm.sock", "")),
        ],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(ws.files.get(d[0].file).line_col(d[0].range.start).line, 3);
    assert_eq!(
        d[0].fix.as_ref().map(|f| f.edits[0].replacement.as_str()),
        Some("30s")
    );
}

#[test]
fn rule_options_change_thresholds() {
    let ini = "memory_limit = 48M\n";
    let path = "etc/php/8.2/fpm/php.ini";
    let (_, d) = run(
        "php-memory-limit-too-low",
        &[(path, ini)],
        Config::default(),
    );
    assert!(d.is_empty());
    let toml = "[rules.php-memory-limit-too-low]\nmin = \"64M\"\n";
    let config = Config::parse(std::path::Path::new("gatelint.toml"), toml).expect("config");
    let (_, d) = run("php-memory-limit-too-low", &[(path, ini)], config);
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn other_fastcgi_servers_are_not_php_pools() {
    let nginx = "events {}\nhttp {\n    server {\n        location /cgi-bin/ {\n            fastcgi_pass 127.0.0.1:9001;\n        }\n        location ~ \\.php$ {\n            fastcgi_pass 127.0.0.1:9002;\n        }\n    }\n}\n";
    let (ws, d) = run(
        "fpm-tcp-endpoint-mismatch",
        &[(NGINX, nginx), (POOL, &pool("www", "127.0.0.1:9000", ""))],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "only the PHP location: {d:?}");
    assert_eq!(ws.files.get(d[0].file).line_col(d[0].range.start).line, 8);
}

#[test]
fn proxy_pass_to_a_remote_pool_port_is_a_warning() {
    let nginx = "events {}\nhttp {\n    server {\n        location / {\n            proxy_pass http://php:9000;\n        }\n    }\n}\n";
    let (_, d) = run(
        "upstream-protocol-mismatch",
        &[(NGINX, nginx), (POOL, &pool("www", "9000", ""))],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Warning);
}

#[test]
fn max_children_below_the_servers_sharing_the_pool() {
    let mut servers = String::new();
    for i in 0..12 {
        servers.push_str(&format!(
            "    server {{\n        server_name s{i};\n        location ~ \\.php$ {{\n            fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n        }}\n    }}\n"
        ));
    }
    let nginx = format!("events {{}}\nhttp {{\n{servers}}}\n");
    let p = pool("www", "/run/php/php8.2-fpm.sock", "").replace("= 5", "= 10");
    let (_, d) = run(
        "fpm-max-children-too-low",
        &[(NGINX, &nginx), (POOL, &p)],
        Config::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("shared by 12 nginx servers"),
        "{}",
        d[0].message
    );
    assert_eq!(
        d[0].fix.as_ref().map(|f| f.edits[0].replacement.as_str()),
        Some("24")
    );
    let p = p.replace("= 10", "= 12");
    let (_, d) = run(
        "fpm-max-children-too-low",
        &[(NGINX, &nginx), (POOL, &p)],
        Config::default(),
    );
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn which_pool_address_a_local_pass_reaches() {
    use super::context::pool_serves;
    use crate::model::fpm::ListenAddr;
    use crate::model::nginx_values::Endpoint;
    let tcp = |h: &str, p: u16| Endpoint::Host {
        host: h.into(),
        port: Some(p),
    };
    let l = |v: &str| ListenAddr::parse(v, None);
    assert!(pool_serves(&l("9000"), &tcp("127.0.0.1", 9000)));
    assert!(pool_serves(&l("9000"), &tcp("::1", 9000)));
    assert!(pool_serves(&l("127.0.0.1:9000"), &tcp("localhost", 9000)));
    assert!(!pool_serves(&l("127.0.0.1:9000"), &tcp("::1", 9000)));
    assert!(!pool_serves(&l("0.0.0.0:9000"), &tcp("::1", 9000)));
    assert!(!pool_serves(&l("127.0.0.1:9001"), &tcp("127.0.0.1", 9000)));
    assert!(
        !pool_serves(&l("9000"), &tcp("php", 9000)),
        "not this machine"
    );
    assert!(pool_serves(
        &l("/var/run/php/x.sock"),
        &Endpoint::Unix("/run/php/x.sock".into())
    ));
    assert!(!pool_serves(&l("/run/php/x.sock"), &tcp("127.0.0.1", 9000)));
}

#[test]
fn inserted_lines_keep_crlf_and_a_missing_final_newline() {
    let crlf = "[www]\r\nuser = www-data\r\ngroup = www-data\r\nlisten = /run/php/php8.2-fpm.sock\r\npm = static\r\npm.max_children = 5\r\n";
    let (_, d) = run("fpm-socket-owner-unset", &[(POOL, crlf)], Config::default());
    let e = &d[0].fix.as_ref().expect("a fix").edits[0];
    assert_eq!(
        e.replacement,
        "listen.owner = www-data\r\nlisten.group = www-data\r\n"
    );
    let last = "[www]\nuser = www-data\ngroup = www-data\npm = static\npm.max_children = 5\nlisten = /run/php/php8.2-fpm.sock";
    let (ws, d) = run("fpm-socket-owner-unset", &[(POOL, last)], Config::default());
    let e = &d[0].fix.as_ref().expect("a fix").edits[0];
    assert_eq!(e.range.start as usize, ws.files.get(e.file).text.len());
    assert_eq!(
        e.replacement,
        "\nlisten.owner = www-data\nlisten.group = www-data\n"
    );
}

#[test]
fn a_socket_path_with_invalid_utf8_gets_no_edit_past_its_bytes() {
    // Found by fuzzing: the value holds U+FFFD (three bytes) for each invalid byte, so
    // its offsets are not the source's; the fix edit ran past the end of the file.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nginx = php_location("unix:/run/php/php8.1-fpm.sock").into_bytes();
    let at = nginx.windows(4).position(|w| w == b"php8").unwrap();
    nginx.splice(at..at, [0xff, 0xfe, 0xfd]);
    for (p, t) in [
        (NGINX, nginx),
        (
            POOL,
            pool("www", "/run/php/php8.2-fpm.sock", "").into_bytes(),
        ),
    ] {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, t).unwrap();
    }
    let (inputs, _) = discover(&[dir.path().to_path_buf()], None);
    let plan = Plan {
        inputs,
        root: Some(dir.path().to_path_buf()),
        ..Plan::default()
    };
    let ws = Workspace::load(&plan, &mut StackSource::new(plan.root.clone()));
    let config = Config {
        select: Some(vec!["fpm-socket-path-mismatch".into()]),
        ..Config::default()
    };
    let d = lint(&ws, &config);
    assert_eq!(d.len(), 1, "{d:?}");
    // The finding stands; no edit is offered on bytes the value does not mirror.
    assert!(d[0].fix.is_none(), "{:?}", d[0].fix);
}
