//! Behaviour of the nginx rules beyond the doc examples: inheritance, defaults, contexts
//! where nginx's own semantics keep a rule quiet, and the shape of inserted lines.

use super::proxy_pass_unknown_upstream::similar;
use super::variable_proxy_pass_host_not_in_resolver::literal_host;
use crate::config::Config;
use crate::diagnostic::Applicability;
use crate::diagnostic::Diagnostic;
use crate::discover::Input;
use crate::fix::{apply_edits, select_fixes};
use crate::source::FileKind;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};

/// Lint one nginx.conf text with only `rule` and return the findings and the text after
/// applying their fixes (unsafe included).
fn run(rule: &str, text: &str) -> (Vec<Diagnostic>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, text).expect("write");
    let plan = Plan {
        inputs: vec![Input {
            path: path.clone(),
            kind: FileKind::Nginx,
            text: None,
        }],
        root: None,
        prefix: None,
        ..Plan::default()
    };
    let ws = Workspace::load(&plan, &mut StackSource::new(None));
    let config = Config {
        select: Some(vec![rule.to_string()]),
        ..Config::default()
    };
    let diags = lint(&ws, &config);
    let chosen = select_fixes(&diags, Applicability::Unsafe);
    let edits: Vec<_> = chosen
        .iter()
        .flat_map(|d| d.fix.iter().flat_map(|f| f.edits.iter()))
        .collect();
    let fixed = String::from_utf8_lossy(&apply_edits(text.as_bytes(), &edits)).into_owned();
    (diags, fixed)
}

fn http(body: &str) -> String {
    format!("events {{}}\nhttp {{\n{body}}}\n")
}

#[test]
fn literal_hosts_before_variables() {
    assert_eq!(
        literal_host("localhost:11000$request_uri"),
        Some(("localhost".into(), Some(11000)))
    );
    assert_eq!(literal_host("App$request_uri"), Some(("app".into(), None)));
    assert_eq!(
        literal_host("app$suffix"),
        None,
        "the variable may extend the name"
    );
    assert_eq!(literal_host("$host"), None);
    assert_eq!(literal_host("a:99999$uri"), None);
}

#[test]
fn similar_names() {
    assert!(similar("php_fpm", "php-fpm"));
    assert!(similar("backend_app", "backend_ap"));
    assert!(similar("Backend", "backend"));
    assert!(!similar("api", "app"), "short names are too easily alike");
    assert!(!similar("backend", "frontend"));
}

#[test]
fn busy_buffers_use_inherited_values_and_report_once() {
    // The server's buffers with the location's larger buffer size break the relation in
    // the location only.
    let text = http(
        "    server {\n        proxy_buffers 4 4k;\n        location / {\n            proxy_buffer_size 8k;\n        }\n        location /b {\n            proxy_pass http://127.0.0.1:1;\n        }\n    }\n",
    );
    let (d, fixed) = run("busy-buffers-size-invalid", &text);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("minus one buffer"),
        "{}",
        d[0].message
    );
    // 2 x 8k = 16k of busy buffers need 5 buffers of 4k.
    assert!(
        fixed.contains("proxy_buffer_size 8k;\n            proxy_buffers 5 4k;"),
        "{fixed}"
    );
}

#[test]
fn default_buffers_are_valid() {
    let text =
        http("    server {\n        proxy_buffer_size 8k;\n        fastcgi_buffers 2 4k;\n    }\n");
    let (d, _) = run("busy-buffers-size-invalid", &text);
    // fastcgi: size 4k, busy 8k > (2 - 1) x 4k.
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("fastcgi_busy_buffers_size"));
}

#[test]
fn timeouts_inherited_from_http_are_reported_once_at_their_line() {
    let text = http(
        "    proxy_read_timeout 3s;\n    server {\n        location /a { proxy_pass http://127.0.0.1:1; }\n        location /b { proxy_pass http://127.0.0.1:2; }\n        location /c { proxy_pass http://127.0.0.1:3; proxy_read_timeout 30s; }\n    }\n",
    );
    let (d, fixed) = run("proxy-read-timeout-too-low", &text);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(fixed.contains("proxy_read_timeout 10s;"), "{fixed}");
}

#[test]
fn timeout_minimum_is_configurable() {
    let text = http("    server {\n        location / { proxy_pass http://127.0.0.1:1; proxy_read_timeout 20s; }\n    }\n");
    let (d, _) = run("proxy-read-timeout-too-low", &text);
    assert!(d.is_empty());
    let mut config = Config::parse(
        std::path::Path::new("gatelint.toml"),
        "[rules.proxy-read-timeout-too-low]\nmin = \"30s\"\n",
    )
    .expect("config parses");
    config.select = Some(vec!["proxy-read-timeout-too-low".into()]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, &text).expect("write");
    let plan = Plan {
        inputs: vec![Input {
            path,
            kind: FileKind::Nginx,
            text: None,
        }],
        root: None,
        prefix: None,
        ..Plan::default()
    };
    let ws = Workspace::load(&plan, &mut StackSource::new(None));
    let d = lint(&ws, &config);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("30s"));
}

#[test]
fn stream_proxy_pass_is_not_an_http_url() {
    let text = "events {}\nstream {\n    upstream db { server 127.0.0.1:3306; }\n    server {\n        listen 3307;\n        proxy_pass db;\n    }\n    server {\n        listen 3308;\n        proxy_pass 127.0.0.1:3306;\n    }\n}\n";
    for rule in [
        "proxy-pass-invalid-url",
        "proxy-pass-unknown-upstream",
        "upstream-static-hostname-stale-ip",
    ] {
        let (d, _) = run(rule, text);
        assert!(d.is_empty(), "{rule}: {d:?}");
    }
}

#[test]
fn inserted_lines_follow_crlf_and_tabs() {
    let text = "events {}\r\nhttp {\r\n\tupstream b {\r\n\t\tserver 127.0.0.1:1;\r\n\t\tkeepalive 4;\r\n\t}\r\n\tserver {\r\n\t\tlocation / {\r\n\t\t\tproxy_pass http://b; # app\r\n\t\t}\r\n\t}\r\n}\r\n";
    let (d, fixed) = run("upstream-keepalive-without-http11", text);
    assert_eq!(d.len(), 1);
    assert!(
        fixed.contains("proxy_pass http://b; # app\r\n\t\t\tproxy_http_version 1.1;\r\n\t\t\tproxy_set_header Connection \"\";\r\n\t\t}"),
        "{fixed:?}"
    );
}

#[test]
fn keepalive_fix_keeps_inherited_headers() {
    let text = http(
        "    upstream b { server 127.0.0.1:1; keepalive 4; }\n    proxy_set_header X-Real-IP $remote_addr;\n    server {\n        location / {\n            proxy_http_version 1.1;\n            proxy_pass http://b;\n        }\n    }\n",
    );
    let (_, fixed) = run("upstream-keepalive-without-http11", &text);
    assert!(
        fixed.contains("proxy_pass http://b;\n            proxy_set_header X-Real-IP $remote_addr;\n            proxy_set_header Connection \"\";"),
        "{fixed}"
    );
}

#[test]
fn uri_part_is_allowed_in_prefix_locations_nested_in_regex_ones() {
    let text = http("    server {\n        location ~ ^/a {\n            location /a/b { proxy_pass http://127.0.0.1:1/x/; }\n        }\n        location @named { proxy_pass http://127.0.0.1:1/; }\n    }\n");
    let (d, fixed) = run("proxy-pass-uri-not-allowed", &text);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("named location"));
    assert!(
        fixed.contains("location @named { proxy_pass http://127.0.0.1:1; }"),
        "{fixed}"
    );
}

#[test]
fn implicit_upstreams_need_no_resolver() {
    // The pass without variables defines `localhost:3000`, which the variable pass finds.
    let text = http("    resolver 127.0.0.53;\n    server {\n        location /a { proxy_pass http://localhost:3000; }\n        location /b { proxy_pass http://localhost:3000$request_uri; }\n        location /c { proxy_pass http://localhost:4000$request_uri; }\n    }\n");
    let (d, _) = run("variable-proxy-pass-host-not-in-resolver", &text);
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn upstreams_without_servers_but_with_a_zone_are_left_alone() {
    let text = http("    upstream plus { zone plus 64k; }\n    upstream empty { }\n");
    let (d, _) = run("upstream-no-usable-server", &text);
    assert_eq!(d.len(), 1, "{d:?}");
}

#[test]
fn worker_limits_only_for_configurations_that_proxy() {
    let text = "events {}\nhttp {\n    server {\n        root /srv;\n    }\n}\n";
    assert!(run("nginx-worker-connections-too-low-for-proxy", text)
        .0
        .is_empty());
    assert!(run("nginx-rlimit-nofile-too-low", text).0.is_empty());
}

#[test]
fn http_buffers_are_checked_only_when_a_server_merges_them() {
    // nginx -t accepts this: no server, no merge.
    let alone = http("    proxy_buffer_size 16k;\n    proxy_buffers 4 4k;\n");
    assert!(run("busy-buffers-size-invalid", &alone).0.is_empty());
    let with_server = http("    proxy_buffer_size 16k;\n    proxy_buffers 4 4k;\n    server {}\n");
    assert_eq!(run("busy-buffers-size-invalid", &with_server).0.len(), 1);
}
