use super::*;
use std::path::Path;

/// The single spec of `name` defined by `module`.
fn spec(name: &str, module: &str) -> &'static DirectiveSpec {
    let found: Vec<_> = lookup(name).iter().filter(|s| s.module == module).collect();
    assert_eq!(found.len(), 1, "{name} in {module}: {found:?}");
    found[0]
}

#[test]
fn table_is_sorted_for_binary_search() {
    assert!(DIRECTIVES.len() > 1000, "{}", DIRECTIVES.len());
    for w in DIRECTIVES.windows(2) {
        assert!(w[0].name <= w[1].name, "{} > {}", w[0].name, w[1].name);
    }
}

#[test]
fn every_spec_has_a_context_an_arg_rule_and_a_source() {
    for s in DIRECTIVES {
        assert_ne!(s.contexts & CTX_ANY, 0, "{} has no context", s.name);
        assert_ne!(s.args, 0, "{} has no argument rule", s.name);
        assert!(s.source.contains(':'), "{}: {}", s.name, s.source);
    }
}

#[test]
fn fastcgi_pass_is_location_only_and_takes_one() {
    let s = spec("fastcgi_pass", "ngx_http_fastcgi_module");
    assert_eq!(s.contexts, CTX_HTTP_LOCATION | CTX_HTTP_LOCATION_IF);
    assert_eq!(s.args, ARG_TAKE1);
    assert_eq!(s.origin, Origin::Standard);
    assert!(s
        .source
        .starts_with("src/http/modules/ngx_http_fastcgi_module.c:"));
    assert!(allowed_in(s, Context::Location));
    assert!(allowed_in(s, Context::LocationIf));
    assert!(!allowed_in(s, Context::Server));
    assert!(!allowed_in(s, Context::Http));
}

#[test]
fn proxy_buffer_size_is_a_size() {
    let s = spec("proxy_buffer_size", "ngx_http_proxy_module");
    assert_eq!(s.contexts, CTX_HTTP | CTX_HTTP_SERVER | CTX_HTTP_LOCATION);
    assert_eq!(s.args, ARG_TAKE1);
    assert_eq!(s.value, ValueKind::Size);
    assert!(s.unique);
}

#[test]
fn worker_connections_lives_in_events() {
    let s = spec("worker_connections", "ngx_event_core_module");
    assert_eq!(s.contexts, CTX_EVENTS);
    assert!(allowed_in(s, Context::Events));
    assert!(!allowed_in(s, Context::Main));
    assert_eq!(s.origin, Origin::Core);
}

#[test]
fn listen_takes_one_or_more_in_each_server_kind() {
    let http = spec("listen", "ngx_http_core_module");
    assert_eq!(http.contexts, CTX_HTTP_SERVER);
    assert_eq!(http.args, ARG_1MORE);
    let stream = spec("listen", "ngx_stream_core_module");
    assert_eq!(stream.contexts, CTX_STREAM_SERVER);
    assert_eq!(
        stream.origin,
        Origin::Optional {
            flag: "--with-stream"
        }
    );
    assert_eq!(
        spec("listen", "ngx_mail_core_module").contexts,
        CTX_MAIL_SERVER
    );
}

#[test]
fn server_is_a_block_in_http_and_an_address_in_upstream() {
    let block = spec("server", "ngx_http_core_module");
    assert_eq!(block.contexts, CTX_HTTP);
    assert_eq!(block.args, ARG_BLOCK | ARG_NOARGS);
    let ups = spec("server", "ngx_http_upstream_module");
    assert_eq!(ups.contexts, CTX_HTTP_UPSTREAM);
    assert_eq!(ups.args, ARG_1MORE);
    assert!(matches!(
        check("server", Context::Http, 0, true),
        Verdict::Ok(s) if s.module == "ngx_http_core_module"
    ));
    assert!(matches!(
        check("server", Context::Upstream, 2, false),
        Verdict::Ok(s) if s.module == "ngx_http_upstream_module"
    ));
    assert!(matches!(
        check("server", Context::Upstream, 0, false),
        Verdict::InvalidArgCount(_)
    ));
    assert!(matches!(
        check("server", Context::StreamUpstream, 1, false),
        Verdict::Ok(s) if s.module == "ngx_stream_upstream_module"
    ));
}

#[test]
fn keepalive_is_an_upstream_directive() {
    let s = spec("keepalive", "ngx_http_upstream_keepalive_module");
    assert_eq!(s.contexts, CTX_HTTP_UPSTREAM);
    assert_eq!(s.args, ARG_TAKE1 | ARG_TAKE2);
    assert_eq!(
        check("keepalive", Context::Location, 1, false),
        Verdict::NotAllowedHere
    );
}

#[test]
fn enum_and_bitmask_words_are_extracted() {
    let s = spec("proxy_http_version", "ngx_http_proxy_module");
    let ValueKind::Enum(words) = s.value else {
        panic!("{:?}", s.value)
    };
    assert_eq!(&words[..2], &["1.0", "1.1"]);
    assert!(check_value(s, &["1.1"]).is_ok());
    assert!(check_value(s, &["1.2"]).is_err());

    let s = spec("ssl_protocols", "ngx_http_ssl_module");
    let ValueKind::Bitmask(words) = s.value else {
        panic!("{:?}", s.value)
    };
    assert!(words.contains(&"TLSv1.2") && words.contains(&"TLSv1.3"));
    assert!(check_value(s, &["TLSv1.2", "tlsv1.3"]).is_ok());
    let err = check_value(s, &["TLSv1.2", "TLSv9"]).unwrap_err();
    assert_eq!(err.arg, 1);
    assert_eq!(err.message, "invalid value \"TLSv9\"");
}

#[test]
fn flag_values_are_checked_like_nginx() {
    let s = spec("sendfile", "ngx_http_core_module");
    assert_eq!(s.args, ARG_FLAG);
    assert_eq!(s.value, ValueKind::Flag);
    assert!(check_value(s, &["ON"]).is_ok());
    assert_eq!(
        check_value(s, &["yes"]).unwrap_err().message,
        "invalid value \"yes\" in \"sendfile\" directive, it must be \"on\" or \"off\""
    );
}

#[test]
fn time_and_bufs_kinds_come_from_the_setter() {
    assert_eq!(
        spec("fastcgi_read_timeout", "ngx_http_fastcgi_module").value,
        ValueKind::Time
    );
    assert_eq!(
        spec("fastcgi_buffers", "ngx_http_fastcgi_module").value,
        ValueKind::Bufs
    );
    assert_eq!(
        spec("fastcgi_buffers", "ngx_http_fastcgi_module").args,
        ARG_TAKE2
    );
}

#[test]
fn arg_count_follows_ngx_conf_handler() {
    let mk = |args| DirectiveSpec {
        name: "x",
        module: "m",
        contexts: CTX_HTTP,
        args,
        value: ValueKind::Any,
        unique: false,
        origin: Origin::Core,
        since: None,
        removed: None,
        source: "t:1",
    };
    let noargs = mk(ARG_NOARGS);
    assert!(accepts_arg_count(&noargs, 0));
    assert!(!accepts_arg_count(&noargs, 1));
    let t12 = mk(ARG_TAKE1 | ARG_TAKE2);
    assert!(!accepts_arg_count(&t12, 0));
    assert!(accepts_arg_count(&t12, 1) && accepts_arg_count(&t12, 2));
    assert!(!accepts_arg_count(&t12, 3));
    let t13 = mk(ARG_TAKE1 | ARG_TAKE3);
    assert!(!accepts_arg_count(&t13, 2));
    // TAKE7 is the most a TAKEn rule can accept: 8 words including the name.
    let t7 = mk(ARG_TAKE7);
    assert!(accepts_arg_count(&t7, 7));
    assert!(!accepts_arg_count(&t7, 8));
    let all = mk(0xff);
    assert!(!accepts_arg_count(&all, 8));
    // FLAG wins over TAKEn bits and wants exactly one.
    let flag = mk(ARG_FLAG | ARG_TAKE2);
    assert!(accepts_arg_count(&flag, 1));
    assert!(!accepts_arg_count(&flag, 2));
    let more1 = mk(ARG_1MORE);
    assert!(!accepts_arg_count(&more1, 0));
    assert!(accepts_arg_count(&more1, 50));
    let more2 = mk(ARG_2MORE);
    assert!(!accepts_arg_count(&more2, 1));
    assert!(accepts_arg_count(&more2, 2));
    // ANY disables the count check altogether.
    let any = mk(ARG_ANY | ARG_NOARGS);
    assert!(accepts_arg_count(&any, 0) && accepts_arg_count(&any, 100));
    // A block is counted like any other directive.
    let block = mk(ARG_BLOCK | ARG_TAKE1);
    assert!(accepts_arg_count(&block, 1));
    assert!(!accepts_arg_count(&block, 0));
}

#[test]
fn check_reports_what_nginx_reports() {
    assert_eq!(
        check("proxy_passs", Context::Location, 1, false),
        Verdict::Unknown
    );
    assert_eq!(
        check("fastcgi_pass", Context::Server, 1, false),
        Verdict::NotAllowedHere
    );
    assert!(matches!(
        check("fastcgi_pass", Context::Location, 2, false),
        Verdict::InvalidArgCount(_)
    ));
    assert!(matches!(
        check("fastcgi_pass", Context::Location, 1, true),
        Verdict::NotTerminated(_)
    ));
    assert!(matches!(
        check("location", Context::Server, 1, false),
        Verdict::NoOpeningBrace(_)
    ));
    assert!(matches!(
        check("include", Context::Upstream, 1, false),
        Verdict::Ok(_)
    ));
    assert!(matches!(
        check("include", Context::LimitExcept, 1, false),
        Verdict::Ok(_)
    ));
    assert!(matches!(
        check("http", Context::Main, 0, true),
        Verdict::Ok(_)
    ));
    assert_eq!(
        check("http", Context::Http, 0, true),
        Verdict::NotAllowedHere
    );
    // `if` is allowed in server and location, not at http level.
    assert!(matches!(
        check("if", Context::Location, 3, true),
        Verdict::Ok(_)
    ));
    assert_eq!(check("if", Context::Http, 3, true), Verdict::NotAllowedHere);
}

#[test]
fn contexts_nest_like_nginx_blocks() {
    assert_eq!(Context::Main.enter("http"), Some(Context::Http));
    assert_eq!(Context::Http.enter("server"), Some(Context::Server));
    assert_eq!(Context::Stream.enter("server"), Some(Context::StreamServer));
    assert_eq!(Context::Server.enter("if"), Some(Context::If));
    assert_eq!(Context::Location.enter("if"), Some(Context::LocationIf));
    assert_eq!(Context::Location.enter("location"), Some(Context::Location));
    assert_eq!(
        Context::Location.enter("limit_except"),
        Some(Context::LimitExcept)
    );
    assert_eq!(Context::Http.enter("map"), None);
    assert_eq!(
        fragment_context("nginx -t (as server-context fragment): [emerg] x"),
        Some(Context::Server)
    );
    assert_eq!(
        fragment_context("nginx -t ok as http-context fragment (test harness)"),
        Some(Context::Http)
    );
    assert_eq!(Context::Http.enter("init_by_lua_block"), None);
    assert!(is_opaque_block("types") && is_opaque_block("split_clients"));
    assert!(!is_opaque_block("upstream"));
}

#[test]
fn versions_come_from_release_tags() {
    let since = |name: &str, module: &str| spec(name, module).since;
    assert_eq!(since("http2", "ngx_http_v2_module"), Some("1.25.1"));
    assert_eq!(since("http3", "ngx_http_v3_module"), Some("1.25.0"));
    assert_eq!(
        since("keepalive_time", "ngx_http_core_module"),
        Some("1.19.10")
    );
    assert_eq!(
        since("ssl_reject_handshake", "ngx_http_ssl_module"),
        Some("1.19.4")
    );
    assert_eq!(
        since("ssl_conf_command", "ngx_http_ssl_module"),
        Some("1.19.4")
    );
    assert_eq!(
        since("proxy_half_close", "ngx_stream_proxy_module"),
        Some("1.21.4")
    );
    assert_eq!(
        since("mp4_start_key_frame", "ngx_http_mp4_module"),
        Some("1.21.4")
    );
    // upstream's keepalive_requests is dated by its own module, not by http core's.
    assert_eq!(
        since("keepalive_requests", "ngx_http_upstream_keepalive_module"),
        Some("1.15.3")
    );

    let ssl = spec("ssl", "ngx_http_ssl_module");
    assert_eq!(ssl.removed, Some("1.25.1"));
    assert!(available_in(ssl, "1.22.1"));
    assert!(!available_in(ssl, "1.25.1"));
    let h2 = spec("http2", "ngx_http_v2_module");
    assert!(!available_in(h2, "1.22.1"));
    assert!(available_in(h2, "1.26.3"));
}

#[test]
fn debian_bookworm_build_has_its_optional_modules() {
    let debian =
        |name: &str, module: &str| built_with(spec(name, module), DEBIAN_BOOKWORM_CONFIGURE);
    assert!(debian("ssl_certificate", "ngx_http_ssl_module"));
    assert!(debian("proxy_half_close", "ngx_stream_proxy_module"));
    assert!(debian("geoip_country", "ngx_http_geoip_module"));
    assert!(debian("gzip", "ngx_http_gzip_filter_module"));
    assert!(!debian("http3", "ngx_http_v3_module"));
    assert!(debian("epoll_events", "ngx_epoll_module"));
    assert!(!debian("kqueue_changes", "ngx_kqueue_module"));
    // On HEAD only, not in any release yet.
    let unreleased = spec("client_body_early_read", "ngx_http_core_module");
    assert_eq!(unreleased.since, None);
    assert!(!available_in(unreleased, "1.31.4"));
    assert!(!debian(
        "google_perftools_profiles",
        "ngx_google_perftools_module"
    ));
    assert!(!debian(
        "more_set_headers",
        "ngx_http_headers_more_filter_module"
    ));
    let packaged = |name: &str, module: &str| packaged_in_debian_bookworm(spec(name, module));
    assert!(packaged(
        "more_set_headers",
        "ngx_http_headers_more_filter_module"
    ));
    assert!(packaged("js_import", "ngx_stream_js_module"));
    assert!(packaged("ssl_certificate", "ngx_http_ssl_module"));
    assert!(!packaged("lua_code_cache", "ngx_stream_lua_module"));
    assert!(!packaged(
        "vhost_traffic_status_zone",
        "ngx_http_vhost_traffic_status_module"
    ));
}

#[test]
fn third_party_and_plus_names_are_marked() {
    let lua = spec("content_by_lua_block", "ngx_http_lua_module");
    assert_eq!(
        lua.origin,
        Origin::ThirdParty {
            module: "ngx_http_lua_module"
        }
    );
    assert!(allowed_in(lua, Context::LocationIf));
    for name in [
        "more_set_headers",
        "more_clear_headers",
        "more_set_input_headers",
        "more_clear_input_headers",
        "brotli",
        "brotli_static",
        "echo",
        "geoip2",
        "set_unescape_uri",
        "js_import",
        "vhost_traffic_status_zone",
        "proxy_cache_purge",
        "modsecurity",
        "pagespeed",
    ] {
        let specs = lookup(name);
        assert!(!specs.is_empty(), "{name} unknown");
        assert!(
            specs
                .iter()
                .all(|s| matches!(s.origin, Origin::ThirdParty { .. })),
            "{name}: {specs:?}"
        );
    }
    for name in [
        "zone_sync",
        "health_check",
        "api",
        "keyval",
        "auth_jwt",
        "ntlm",
        "state",
    ] {
        let specs = lookup(name);
        assert!(
            specs.iter().any(|s| s.origin == Origin::NginxPlus),
            "{name}: {specs:?}"
        );
    }
}

#[test]
fn suggest_finds_near_misses() {
    assert_eq!(suggest("proxy_passs"), Some("proxy_pass"));
    assert_eq!(suggest("fastcgi_read_timout"), Some("fastcgi_read_timeout"));
    assert_eq!(suggest("worker_conections"), Some("worker_connections"));
    assert_eq!(
        suggest("proxy_pass"),
        None,
        "known names need no suggestion"
    );
    assert_eq!(suggest("qqqqqqqqqqqq"), None);
    assert_eq!(suggest(""), None);
}

// ------------------------------------------------------------ corpus check

/// One statement of a config file as the corpus tests see it.
#[derive(Debug, PartialEq)]
struct Stmt {
    name: String,
    /// Enclosing context; `None` inside blocks this table does not model.
    ctx: Option<Context>,
    nargs: usize,
    block: bool,
}

/// The statements of one nginx file (first word = name, argument count,
/// block or not, enclosing context starting at `top`), not descending into
/// opaque blocks (`map`, `types`, `*_by_lua_block`, ...).
fn statements(text: &str, top: Context) -> Vec<Stmt> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut stack: Vec<Option<Context>> = vec![Some(top)];
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' if !in_word => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if !in_word => {
                let q = c;
                in_word = true;
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if i < b.len() {
                        word.push(b[i] as char);
                    }
                    i += 1;
                }
            }
            // `${name}` is a variable, not a block: keep it in the word.
            b'$' if b.get(i + 1) == Some(&b'{') => {
                in_word = true;
                while i < b.len() && b[i] != b'}' {
                    word.push(b[i] as char);
                    i += 1;
                }
                word.push('}');
            }
            b'\\' if i + 1 < b.len() => {
                in_word = true;
                word.push(b[i + 1] as char);
                i += 1;
            }
            b';' | b'{' | b'}' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                let ctx = stack.last().copied().flatten();
                if c == b'}' {
                    if stack.len() > 1 {
                        stack.pop();
                    }
                } else if let Some(first) = words.first() {
                    out.push(Stmt {
                        name: first.clone(),
                        ctx,
                        nargs: words.len() - 1,
                        block: c == b'{',
                    });
                    if c == b'{' {
                        if is_opaque_block(first) {
                            i = skip_block(b, i + 1);
                            words.clear();
                            continue;
                        }
                        let inner = ctx.and_then(|x| x.enter(first));
                        stack.push(inner.filter(|x| *x != Context::Other));
                    }
                }
                words.clear();
            }
            b' ' | b'\t' | b'\r' | b'\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                word.push(c as char);
            }
        }
        i += 1;
    }
    out
}

fn directive_names(text: &str) -> Vec<String> {
    statements(text, Context::Main)
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// Skip to just after the `}` closing a block whose `{` is before `i`,
/// honouring quotes and `#`/`--` comments (enough for map bodies and Lua).
fn skip_block(b: &[u8], mut i: usize) -> usize {
    let mut depth = 1;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                let q = b[i];
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

#[test]
fn name_extraction_skips_opaque_bodies() {
    let text = "http { map $a $b { default 0; x 1; }\n  server { listen 80${x}; # c;\n \
                location / { content_by_lua_block { ngx.say('}') -- }\n } \"return\" 200; } } }";
    assert_eq!(
        directive_names(text),
        [
            "http",
            "map",
            "server",
            "listen",
            "location",
            "content_by_lua_block",
            "return"
        ]
    );
}

/// Notes in MANIFEST.tsv start with nginx's verdict; "nginx -t ok" (possibly
/// with a parenthesised remark before "ok") means nginx accepted the file.
fn nginx_accepted(note: &str) -> bool {
    let Some(rest) = note.strip_prefix("nginx -t") else {
        return false;
    };
    // Drop parenthesised remarks: "nginx -t (supplied ...) ok (remapped ...)".
    let mut depth = 0usize;
    let outside: String = rest
        .chars()
        .filter(|&c| {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.saturating_sub(1),
                _ => return depth == 0,
            }
            false
        })
        .collect();
    let verdict = outside.split([':', ';']).next().unwrap_or("");
    verdict.split_whitespace().next() == Some("ok") || note.contains("syntax is ok")
}

#[test]
fn manifest_notes_are_read_as_nginx_verdicts() {
    assert!(nginx_accepted("nginx -t ok"));
    assert!(nginx_accepted(
        "nginx -t ok (absolute include paths remapped); features: CRLF"
    ));
    assert!(nginx_accepted("nginx -t (supplied next to it: logs/) ok"));
    assert!(nginx_accepted(
        "nginx -t ok as http-context fragment (test harness)"
    ));
    assert!(!nginx_accepted(
        "nginx -t: [emerg] unknown directive \"status\""
    ));
    assert!(!nginx_accepted(
        "nginx -t (supplied next to it: mime.types): [emerg] host not found"
    ));
    assert!(!nginx_accepted("php-fpm8.2 -t ok"));
}

#[test]
fn every_directive_of_accepted_corpus_files_is_known() {
    corpus_names_are_known("nginx", 50);
}

#[test]
fn every_directive_of_accepted_corpus_fragments_is_known() {
    corpus_names_are_known("nginx-include-fragment", 300);
}

/// Every directive name in the corpus files of `kind` that nginx accepted is
/// in the table; prints how many were unknown to nginx's own modules alone.
fn corpus_names_are_known(kind: &str, min_files: usize) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        eprintln!("corpus not found at {}; skipping", corpus.display());
        return;
    };
    let mut files = 0;
    let mut unknown_core: std::collections::BTreeSet<String> = Default::default();
    let mut unknown_all: std::collections::BTreeSet<String> = Default::default();
    let mut names_seen: std::collections::BTreeSet<String> = Default::default();
    let mut refused: Vec<String> = Vec::new();
    let mut checked = 0usize;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || cols[1] != kind || !nginx_accepted(cols[3]) {
            continue;
        }
        let Ok(bytes) = std::fs::read(corpus.join(cols[0])) else {
            continue;
        };
        files += 1;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let top = fragment_context(cols[3]).unwrap_or(Context::Main);
        for stmt in statements(text, top) {
            if let Some(ctx) = stmt.ctx {
                checked += 1;
                match check(&stmt.name, ctx, stmt.nargs, stmt.block) {
                    Verdict::Ok(_) | Verdict::Unknown => {}
                    bad => refused.push(format!(
                        "{} in {ctx:?} with {} args: {} ({})",
                        stmt.name,
                        stmt.nargs,
                        verdict_name(&bad),
                        cols[0]
                    )),
                }
            }
            let name = stmt.name;
            let specs = lookup(&name);
            if specs
                .iter()
                .all(|s| matches!(s.origin, Origin::ThirdParty { .. } | Origin::NginxPlus))
            {
                unknown_core.insert(name.clone());
            }
            if specs.is_empty() {
                unknown_all.insert(format!("{name} ({})", cols[0]));
            }
            names_seen.insert(name);
        }
    }
    eprintln!(
        "corpus {kind}: {files} accepted files, {} distinct directive names; \
         unknown with nginx's own modules only: {} {:?}; unknown with third-party/Plus names too: {} {:?}",
        names_seen.len(),
        unknown_core.len(),
        unknown_core,
        unknown_all.len(),
        unknown_all
    );
    eprintln!(
        "corpus {kind}: {checked} statements checked, {} refused by context/argument rules: {refused:#?}",
        refused.len()
    );
    assert!(
        checked >= min_files * 3,
        "only {checked} statements checked"
    );
    assert!(files >= min_files, "only {files} accepted files found");
    assert!(unknown_all.is_empty(), "unknown: {unknown_all:?}");
    assert!(refused.is_empty(), "refused: {refused:#?}");
}

/// The context a fragment was accepted in: "nginx -t ok as server-context fragment".
/// Also "nginx -t (as http-context fragment): [emerg] ...".
fn fragment_context(note: &str) -> Option<Context> {
    let head = &note[..note.find("-context fragment")?];
    let word = head.rsplit([' ', '(']).next()?;
    Some(match word {
        "main" => Context::Main,
        "http" => Context::Http,
        "server" => Context::Server,
        "location" => Context::Location,
        "stream" => Context::Stream,
        _ => return None,
    })
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Ok(_) => "ok",
        Verdict::Unknown => "unknown directive",
        Verdict::NotAllowedHere => "not allowed here",
        Verdict::NotTerminated(_) => "not terminated by \";\"",
        Verdict::NoOpeningBrace(_) => "has no opening \"{\"",
        Verdict::InvalidArgCount(_) => "invalid number of arguments",
    }
}

/// The directive name quoted after `marker` in an nginx error line.
fn quoted_after<'a>(note: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &note[note.find(marker)? + marker.len()..];
    rest.split('"').next()
}

/// What Debian's nginx 1.22.1 (the corpus oracle) would know: nginx's own
/// modules of that version. Third-party and Plus names are "unknown" to it
/// unless their module is loaded.
fn known_to_nginx_1_22(name: &str) -> bool {
    lookup(name).iter().any(|s| {
        !matches!(s.origin, Origin::ThirdParty { .. } | Origin::NginxPlus)
            && available_in(s, "1.22.1")
    })
}

#[test]
fn corpus_refusals_are_reproduced() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        eprintln!("corpus not found at {}; skipping", corpus.display());
        return;
    };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || !cols[1].starts_with("nginx") || cols[1] == "nginx-invalid" {
            continue;
        }
        let note = cols[3];
        if !note.starts_with("nginx -t") {
            continue;
        }
        let Ok(bytes) = std::fs::read(corpus.join(cols[0])) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let top = fragment_context(note).unwrap_or(Context::Main);
        let stmts = statements(&text, top);
        let has = |name: &str, want: fn(&Verdict) -> bool| {
            stmts.iter().any(|s| {
                s.name == name
                    && s.ctx
                        .is_some_and(|c| want(&check(&s.name, c, s.nargs, s.block)))
            })
        };
        // A third-party module this table knows but the oracle had not loaded
        // (e.g. stream-lua's `lua_code_cache` in `stream`) explains a refusal.
        let third_party_ok = |name: &str| {
            stmts.iter().any(|s| {
                s.name == name
                    && s.ctx.is_some_and(|c| {
                        matches!(
                            check(&s.name, c, s.nargs, s.block),
                            Verdict::Ok(DirectiveSpec {
                                origin: Origin::ThirdParty { .. },
                                ..
                            })
                        )
                    })
            })
        };
        let ok = if let Some(name) = quoted_after(note, "[emerg] unknown directive \"") {
            Some((name, !known_to_nginx_1_22(name)))
        } else if let Some(name) = quoted_after(note, "[emerg] \"") {
            if note.contains("\" directive is not allowed here") {
                Some((
                    name,
                    has(name, |v| *v == Verdict::NotAllowedHere) || third_party_ok(name),
                ))
            } else {
                None
            }
        } else if let Some(name) = quoted_after(note, "invalid number of arguments in \"") {
            Some((
                name,
                has(name, |v| matches!(v, Verdict::InvalidArgCount(_))),
            ))
        } else if let Some(name) = quoted_after(note, "[emerg] directive \"") {
            if note.contains("\" has no opening \"{\"") {
                Some((name, has(name, |v| matches!(v, Verdict::NoOpeningBrace(_)))))
            } else {
                None
            }
        } else {
            None
        };
        if let Some((name, agreed)) = ok {
            checked += 1;
            if !agreed {
                mismatches.push(format!("{name}: {}", cols[0]));
            }
        }
    }
    eprintln!("corpus refusals reproduced: {checked} checked, mismatches: {mismatches:#?}");
    assert!(checked >= 30, "only {checked} refusals found");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// Wrap one directive line into a whole config placing it in `ctx`.
fn config_in(ctx: Context, directive: &str) -> Option<String> {
    Some(match ctx {
        Context::Main => format!("{directive}\nevents {{}}\n"),
        Context::Events => format!("events {{\n{directive}\n}}\n"),
        Context::Http => format!("events {{}}\nhttp {{\n{directive}\n}}\n"),
        Context::Server => format!("events {{}}\nhttp {{ server {{\n{directive}\n}} }}\n"),
        Context::Location => {
            format!("events {{}}\nhttp {{ server {{ location / {{\n{directive}\n}} }} }}\n")
        }
        Context::Upstream => {
            format!("events {{}}\nhttp {{ upstream u {{\n{directive}\nserver 127.0.0.1; }} }}\n")
        }
        _ => return None,
    })
}

/// Runs the real `nginx -t` (from PATH, or `GATELINT_NGINX`) on directives
/// sampled from the table, in several contexts and with right and wrong
/// argument counts, and compares its verdicts with [`check`].
#[test]
fn sampled_verdicts_match_real_nginx() {
    let nginx = std::env::var("GATELINT_NGINX").unwrap_or_else(|_| "nginx".into());
    let Ok(out) = std::process::Command::new(&nginx).arg("-V").output() else {
        eprintln!("nginx not found (PATH or GATELINT_NGINX); skipping");
        return;
    };
    let info = String::from_utf8_lossy(&out.stderr).into_owned();
    let Some(version) = info
        .split("nginx/")
        .nth(1)
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_owned)
    else {
        eprintln!("cannot read the version of {nginx}; skipping");
        return;
    };
    // Static modules only: dynamic ones need load_module and may be absent.
    let flags: Vec<&str> = info
        .split_whitespace()
        .filter(|f| f.starts_with("--with-") && !f.ends_with("=dynamic"))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
    let native = |s: &DirectiveSpec| built_with(s, &flags) && available_in(s, &version);
    let mut names: Vec<&str> = DIRECTIVES
        .iter()
        .filter(|s| native(s) && s.contexts & (CTX_STREAM | CTX_MAIL | CTX_MAIL_SERVER) == 0)
        .map(|s| s.name)
        .filter(|n| !is_opaque_block(n) && !matches!(*n, "include" | "load_module"))
        .collect();
    names.dedup();
    let (mut runs, mut diffs) = (0, Vec::new());
    for name in names.iter().step_by(15) {
        let specs: Vec<&DirectiveSpec> = lookup(name).iter().filter(|s| native(s)).collect();
        let block = specs.iter().any(|s| is_block(s));
        let good = (0..8).find(|&n| specs.iter().any(|s| accepts_arg_count(s, n)));
        for (ctx, n) in [
            (Context::Main, good.unwrap_or(1)),
            (Context::Http, good.unwrap_or(1)),
            (Context::Location, good.unwrap_or(1)),
            (Context::Location, good.unwrap_or(1) + 1),
            (Context::Http, 0),
        ] {
            let args: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
            let line = format!(
                "{name} {}{}",
                args.join(" "),
                if block { " { }" } else { ";" }
            );
            let Some(conf) = config_in(ctx, &line) else {
                continue;
            };
            let path = dir.path().join("t.conf");
            std::fs::write(&path, conf).expect("write config");
            let prefix = format!("{}/", dir.path().display());
            let Ok(out) = std::process::Command::new(&nginx)
                .args(["-t", "-q", "-p", &prefix, "-c"])
                .arg(&path)
                .output()
            else {
                continue;
            };
            runs += 1;
            let said = String::from_utf8_lossy(&out.stderr).into_owned();
            let nginx_class = if said.contains("unknown directive") {
                "unknown"
            } else if said.contains("is not allowed here") {
                "not allowed here"
            } else if said.contains("invalid number of arguments") {
                "invalid number of arguments"
            } else {
                "ok"
            };
            let ours = match check(name, ctx, n, block) {
                Verdict::Ok(s) if native(s) => "ok",
                Verdict::Ok(_) => "unknown",
                v => verdict_name(&v),
            };
            if ours != nginx_class {
                diffs.push(format!(
                    "{line:?} in {ctx:?}: table {ours}, nginx {nginx_class}"
                ));
            }
        }
    }
    eprintln!("nginx {version}: {runs} runs, differences: {diffs:#?}");
    assert!(runs >= 50, "only {runs} nginx runs");
    assert!(diffs.is_empty(), "{diffs:#?}");
}

#[test]
fn lookup_finds_every_name_and_only_its_entries() {
    for (i, d) in DIRECTIVES.iter().enumerate() {
        let found = lookup(d.name);
        assert!(found.iter().all(|f| f.name == d.name), "{}", d.name);
        let start = table_index(&found[0]) as usize;
        assert!((start..start + found.len()).contains(&i), "{}", d.name);
    }
    // Unknown names: near misses by one byte at the start, the end and the middle, and
    // names shorter than eight bytes or with a known name's first and last eight bytes.
    for name in [
        "",
        "x",
        "listen_",
        "_listen",
        "proxy_pas",
        "proxy_passs",
        "proxy_read_timeoutt",
        "proxy_read_xtimeout",
        "proxy_xxxx_timeout",
        "fastcgi_buffer_size_proxy_buffer_size",
    ] {
        assert!(lookup(name).is_empty(), "{name}");
    }
    assert_eq!(lookup("proxy_read_timeout")[0].name, "proxy_read_timeout");
}
