//! Tests of the nginx -t checks: unit cases, the corpus (no error on what nginx accepted),
//! and the differential test against a real `nginx -t` on mutated configurations.

mod differential;

use crate::config::Config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::discover::discover;
use crate::workspace::source::StackSource;
use crate::workspace::{lint, Plan, Workspace};
use std::path::Path;

/// Load the nginx file `path` (or every nginx file under a folder) with its includes and
/// lint it with the nginx -t pack only.
pub(super) fn lint_dir(path: &Path, config: &Config) -> (Workspace, Vec<Diagnostic>) {
    let (inputs, _) = discover(&[path.to_path_buf()], Some(crate::source::FileKind::Nginx));
    let plan = Plan {
        inputs,
        root: None,
        prefix: None,
        ..Plan::default()
    };
    let mut source = StackSource::new(None);
    let ws = Workspace::load(&plan, &mut source);
    let ids: Vec<String> = super::RULES
        .iter()
        .map(|r| r.meta().id.to_string())
        .collect();
    let config = Config {
        select: Some(ids),
        ..config.clone()
    };
    let diags = lint(&ws, &config);
    (ws, diags)
}

/// Lint one configuration text as `nginx.conf`; returns `line: rule message` per finding.
fn lint_text(text: &str, config: &Config) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("nginx.conf"), text).expect("write");
    let (ws, diags) = lint_dir(dir.path(), config);
    diags
        .iter()
        .map(|d| {
            let f = ws.files.get(d.file);
            let sev = if d.severity == Severity::Error {
                "E"
            } else {
                "W"
            };
            format!(
                "{}:{} {} {}",
                f.line_col(d.range.start).line,
                sev,
                d.rule,
                d.message
            )
        })
        .collect()
}

fn lint_str(text: &str) -> Vec<String> {
    lint_text(text, &Config::default())
}

#[test]
fn unknown_directive_with_suggestion_and_bom() {
    let out = lint_str("events {}\nhttp {\n    proxy_read_timeot 5s;\n}\n");
    assert_eq!(
        out,
        ["3:E nginx-unknown-directive unknown directive \"proxy_read_timeot\""]
    );
    let out = lint_str("\u{feff}events {}\n");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].contains("unknown directive \"\u{feff}events\""));
}

#[test]
fn unknown_block_reports_only_the_outer_name() {
    let out = lint_str("events {}\nhttp {\n    servr {\n        listn 80;\n    }\n}\n");
    assert_eq!(
        out,
        ["3:E nginx-unknown-directive unknown directive \"servr\""]
    );
}

#[test]
fn third_party_directive_is_a_warning_unless_declared() {
    let text = "events {}\nhttp {\n    more_set_headers \"X-A: b\";\n}\n";
    let out = lint_str(text);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].starts_with("3:W nginx-unknown-directive"), "{out:?}");
    let config = Config {
        nginx_extra_directives: vec!["more_set_headers".into()],
        ..Config::default()
    };
    assert!(lint_text(text, &config).is_empty());
}

#[test]
fn context_count_form_duplicate_and_values() {
    let text = "events {}\nhttp {\n    location / {}\n    server {\n        listen 80;\n        sendfile maybe;\n        proxy_read_timeout 5x;\n        client_max_body_size 1q;\n        root /a;\n        root /b;\n        server_tokens sometimes;\n        gzip on off;\n        location /x;\n        index a { }\n    }\n}\n";
    let out = lint_str(text);
    assert_eq!(
        out,
        [
            "3:E nginx-directive-not-allowed-here \"location\" directive is not allowed here",
            "6:E nginx-invalid-value invalid value \"maybe\" in \"sendfile\" directive, it must be \"on\" or \"off\"",
            "7:E nginx-invalid-value \"proxy_read_timeout\" directive invalid value",
            "8:E nginx-invalid-value \"client_max_body_size\" directive invalid value",
            "10:E nginx-directive-duplicate \"root\" directive is duplicate",
            "11:E nginx-invalid-value invalid value \"sometimes\"",
            "12:E nginx-invalid-argument-count invalid number of arguments in \"gzip\" directive",
            "13:E nginx-directive-block-form directive \"location\" has no opening \"{\"",
            "14:E nginx-directive-block-form directive \"index\" is not terminated by \";\"",
        ]
    );
}

#[test]
fn listen_and_names() {
    let text = "events {}\nhttp {\n    server { listen 80 default_server; server_name a; }\n    server { listen *:80 default_server; server_name a; }\n    server { listen 99999; }\n    server { listen 81 fast; }\n    server { listen 82; listen 82; }\n}\n";
    let out = lint_str(text);
    assert_eq!(
        out,
        [
            "4:E nginx-listen-invalid a duplicate default server for 0.0.0.0:80",
            "4:W nginx-conflicting-server-name conflicting server name \"a\" on 0.0.0.0:80, ignored",
            "5:E nginx-listen-invalid invalid port in \"99999\" of the \"listen\" directive",
            "6:E nginx-listen-invalid invalid parameter \"fast\"",
            "7:E nginx-listen-invalid a duplicate listen 0.0.0.0:82",
        ]
    );
}

#[test]
fn quic_listens_on_udp_beside_tcp_on_the_same_port() {
    // nginx 1.25's HTTP/3 set-up: TCP and UDP sockets on 443, a default server for each.
    let text = "events {}\nhttp {\n    ssl_certificate a.pem; ssl_certificate_key a.key;\n    server { listen 443 ssl default_server; listen 443 quic reuseport default_server; server_name a; }\n    server { listen 443 ssl; listen 443 quic; server_name b; }\n    server { listen 443 quic; listen 443 quic; server_name c; }\n}\n";
    let out = lint_str(text);
    assert_eq!(
        out,
        ["6:E nginx-listen-invalid a duplicate listen 0.0.0.0:443"]
    );
}

#[test]
fn locations_upstreams_and_tls() {
    let text = "events {}\nhttp {\n    upstream app { server 127.0.0.1:1; }\n    upstream APP { server 127.0.0.1:2; }\n    server {\n        listen 443 ssl;\n        location /a {}\n        location ^~ /a {}\n        location = /a {}\n        location ~ /a {}\n        location ~ /a {}\n    }\n    server {\n        listen 8443 ssl;\n        ssl_certificate a.pem;\n    }\n}\n";
    let out = lint_str(text);
    assert_eq!(
        out,
        [
            "4:E nginx-duplicate-upstream duplicate upstream \"APP\"",
            "5:E nginx-ssl-listen-without-certificate no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive",
            "8:E nginx-duplicate-location duplicate location \"/a\"",
            "15:E nginx-ssl-certificate-without-key no \"ssl_certificate_key\" is defined for certificate \"a.pem\"",
        ]
    );
}

#[test]
fn zones_must_be_declared_for_their_module() {
    let text = "events {}\nhttp {\n    proxy_cache_path /tmp/c keys_zone=c:1m;\n    limit_req_zone $binary_remote_addr zone=r:1m rate=1r/s;\n    server {\n        limit_req zone=r burst=5;\n        limit_conn nope 1;\n        location / {\n            proxy_cache c;\n            proxy_cache C;\n            fastcgi_cache c;\n        }\n    }\n}\n";
    let out = lint_str(text);
    assert_eq!(
        out,
        [
            "7:E nginx-unknown-zone zero size shared memory zone \"nope\"",
            "10:E nginx-directive-duplicate \"proxy_cache\" directive is duplicate",
            "10:E nginx-unknown-zone \"proxy_cache\" zone \"C\" is unknown",
            "11:E nginx-unknown-zone the shared memory zone \"c\" is already declared for a different use",
        ]
    );
}

#[test]
fn off_excludes_other_rewrite_lines_but_lists_are_fine() {
    let text = "events {}\nhttp {\n    server {\n        location / {\n            proxy_redirect http://a/ /;\n            proxy_redirect http://b/ /;\n        }\n        location /x {\n            proxy_cookie_path /a /b;\n            proxy_cookie_path off;\n        }\n    }\n}\n";
    assert_eq!(
        lint_str(text),
        ["10:E nginx-directive-duplicate \"proxy_cookie_path\" directive is duplicate"]
    );
}

#[test]
fn handler_values_access_captures_and_old_limit_rate() {
    let text = "events {}\nhttp {\n    server {\n        location / {\n            dav_access user:rw group:r all:r;\n            proxy_store_access user:rw other:r;\n            fastcgi_split_path_info ^(.+\\.php)(/.*)$;\n        }\n        location /b {\n            fastcgi_split_path_info ^(?:.+)\\.php$;\n            proxy_limit_rate $rate;\n        }\n    }\n}\n";
    let config = Config {
        nginx_version: Some("1.22.1".into()),
        ..Config::default()
    };
    assert_eq!(
        lint_text(text, &config),
        [
            "6:E nginx-invalid-value invalid value \"other:r\"",
            "10:E nginx-invalid-value pattern \"^(?:.+)\\.php$\" must have 2 captures",
            "11:E nginx-invalid-value \"proxy_limit_rate\" directive invalid value",
        ]
    );
    assert_eq!(
        super::handlers::regex_captures(r"^(?<a>x)(?P<b>y)[(]\(z(?=w)"),
        2
    );
}

#[test]
fn removed_directive_is_reported_without_a_version() {
    let out = lint_str("events {}\nhttp {\n    server {\n        ssl on;\n    }\n}\n");
    assert_eq!(
        out,
        ["4:E nginx-directive-unavailable-in-version unknown directive \"ssl\" (current nginx)"]
    );
}

#[test]
fn version_check_names_the_release() {
    let text = "events {}\nhttp {\n    server {\n        listen 443 quic;\n        http3 on;\n        ssl_certificate a; ssl_certificate_key b;\n    }\n}\n";
    let config = Config {
        nginx_version: Some("1.22.1".into()),
        ..Config::default()
    };
    let out = lint_text(text, &config);
    assert_eq!(
        out,
        [
            "4:E nginx-listen-invalid invalid parameter \"quic\"",
            "5:E nginx-directive-unavailable-in-version unknown directive \"http3\" (nginx 1.22.1)",
        ]
    );
    assert!(lint_str(text).is_empty());
}

#[test]
fn opaque_and_lua_bodies_are_not_directives() {
    let text = "events {}\nhttp {\n    map $host $x { default 1; foo.example 2; }\n    types { text/html html; }\n    geo $g { default 0; 10.0.0.0/8 1; }\n}\n";
    assert!(lint_str(text).is_empty(), "{:?}", lint_str(text));
}

/// Every nginx entry of the corpus that `nginx -t` accepted (or refused only for lacking
/// an `events` section) raises no error from these checks.
#[test]
fn corpus_configs_nginx_accepted_raise_no_error() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        eprintln!("SKIP: corpus folder {} is absent", corpus.display());
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, "nginx", _entry, note] = cols.as_slice() else {
            continue;
        };
        let accepted = note.starts_with("nginx -t ok")
            || note.starts_with("nginx -t: [emerg] no \"events\" section in configuration");
        if !accepted {
            continue;
        }
        let file = corpus.join(path);
        let (inputs, _) = discover(
            std::slice::from_ref(&file),
            Some(crate::source::FileKind::Nginx),
        );
        let plan = Plan {
            inputs,
            root: None,
            prefix: None,
            ..Plan::default()
        };
        let mut source = StackSource::new(None);
        let ws = Workspace::load(&plan, &mut source);
        let ids: Vec<String> = super::RULES
            .iter()
            .map(|r| r.meta().id.to_string())
            .collect();
        // Debian's nginx 1.22.1 checked the corpus.
        let config = Config {
            select: Some(ids),
            nginx_version: Some("1.22.1".into()),
            ..Config::default()
        };
        checked += 1;
        for d in lint(&ws, &config) {
            if d.severity == Severity::Error {
                let f = ws.files.get(d.file);
                failures.push(format!(
                    "{}:{}: {} {}",
                    f.display_path(),
                    f.line_col(d.range.start).line,
                    d.rule,
                    d.message
                ));
            }
        }
    }
    assert!(checked >= 50, "only {checked} corpus entries checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
