//! Lexer and grammar tests: the edge cases of nginx's tokenizer (decoded values and
//! errors with their lines), losslessness, and deep nesting.

use super::*;
use crate::source::LineIndex;

/// Parse and check the lossless invariant.
fn tree(src: &[u8]) -> NginxTree {
    let t = parse(src);
    assert_eq!(
        t.check_lossless(src),
        Ok(()),
        "not lossless: {:?}",
        String::from_utf8_lossy(src)
    );
    let mut back = Vec::new();
    for p in t.pieces() {
        back.extend_from_slice(&src[p.range.as_range()]);
    }
    assert_eq!(back, src);
    t
}

/// Every directive in preorder as `name arg|arg|…` (decoded values).
fn dirs(src: &str) -> Vec<String> {
    dirs_b(src.as_bytes())
}

fn dirs_b(src: &[u8]) -> Vec<String> {
    let t = tree(src);
    t.all(src)
        .map(|d| {
            let args: Vec<String> = d.args().map(|a| a.as_str().into_owned()).collect();
            format!("{} {}", d.name(), args.join("|"))
        })
        .collect()
}

/// Errors as `line: message`.
fn errs(src: &[u8]) -> Vec<String> {
    let t = tree(src);
    let li = LineIndex::new(src);
    t.errors
        .iter()
        .map(|e| format!("{}: {}", li.line_of(e.range.start) + 1, e.message))
        .collect()
}

fn ok(src: &str) -> Vec<String> {
    let e = errs(src.as_bytes());
    assert!(e.is_empty(), "unexpected errors {e:?} in {src:?}");
    dirs(src)
}

#[test]
fn variables_with_braces_stay_in_the_token() {
    assert_eq!(ok("add_header X-P ${a}bar;"), ["add_header X-P|${a}bar"]);
    assert_eq!(
        ok("add_header X-P ${a} always;"),
        ["add_header X-P|${a}|always"]
    );
    // `{` right after `$` only: `$a{` ends the token at `{`.
    assert_eq!(
        ok("set_by_lua_block $pass{ return 1 }"),
        ["set_by_lua_block $pass"]
    );
}

#[test]
fn escapes_are_decoded_like_nginx() {
    assert_eq!(ok(r#"x "a\"b";"#), [r#"x a"b"#]);
    assert_eq!(ok(r#"x "a\\b";"#), [r"x a\b"]);
    assert_eq!(ok(r#"x "a\nb" "c\td" "e\rf";"#), ["x a\nb|c\td|e\rf"]);
    assert_eq!(ok(r#"x \"a;"#), [r#"x "a"#]);
    assert_eq!(ok(r"x 'a\'b';"), ["x a'b"]);
    // Other pairs keep the backslash.
    assert_eq!(
        ok(r"env LUA_PATH=\;\;/foo/?.lua;"),
        [r"env LUA_PATH=\;\;/foo/?.lua"]
    );
    assert_eq!(ok(r"location /a\ b { }"), [r"location /a\ b"]);
    assert_eq!(ok(r#"x "\.(js|css)$";"#), [r"x \.(js|css)$"]);
}

#[test]
fn raw_spans_and_quote_kinds_are_kept() {
    let src = br#"add_header "X-A" 'b c' d\"e;"#;
    let t = tree(src);
    let d = t.roots(src).next().unwrap();
    let a: Vec<_> = d.args().collect();
    assert_eq!(a[0].raw(), br#""X-A""#);
    assert_eq!(a[0].quote(), Quote::Double);
    assert_eq!(&src[a[0].content_range().as_range()], b"X-A");
    assert_eq!(a[1].quote(), Quote::Single);
    assert_eq!(a[1].as_str(), "b c");
    assert_eq!(a[2].raw(), br#"d\"e"#);
    assert!(a[2].is_escaped());
    // A backslash nginx keeps (a regex's `\.`) is no escape: the value is the raw bytes.
    let regex = br#"location ~ \.php$ { }"#;
    let t = tree(regex);
    let w = t.roots(regex).next().unwrap().args().nth(1).unwrap();
    assert!(!w.is_escaped());
    assert!(matches!(w.value(), std::borrow::Cow::Borrowed(b"\\.php$")));
    assert_eq!(
        w.str_in(std::str::from_utf8(regex).unwrap()),
        Some(r"\.php$")
    );
    assert_eq!(a[2].as_str(), r#"d"e"#);
    // Slices of the validated file agree with as_str where no decoding is needed.
    let whole = std::str::from_utf8(src).unwrap();
    assert_eq!(a[0].str_in(whole), Some("X-A"));
    assert_eq!(a[1].str_in(whole), Some("b c"));
    assert_eq!(a[2].str_in(whole), None);
    assert_eq!(d.arg_str(1).as_deref(), Some("b c"));
    assert_eq!(d.arg_str(3), None);
    assert!(matches!(d.end(), DirectiveEnd::Semicolon(r) if r.start as usize == src.len() - 1));
    assert_eq!(d.span().end as usize, src.len());
}

#[test]
fn quoted_values_keep_separators_and_comment_signs() {
    assert_eq!(
        ok(r#"x "a;b" "}{" "a # b" a#b a"b "it's" "";"#),
        [r#"x a;b|}{|a # b|a#b|a"b|it's|"#]
    );
}

#[test]
fn a_closing_brace_does_not_end_an_unquoted_token() {
    assert_eq!(
        ok("server { return 200 a}b; }"),
        ["server ", "return 200|a}b"]
    );
}

#[test]
fn a_byte_after_a_closing_quote_is_an_error() {
    assert_eq!(errs(br#"x "a"b;"#), [r#"1: unexpected "b""#]);
    assert_eq!(errs(b"x\n\"a\"-z;"), [r#"2: unexpected "-""#]);
    // `)` is allowed and starts a new token, as in `if ($x = "a b")`.
    assert_eq!(ok(r#"if ($x = "a b") { }"#), [r#"if ($x|=|a b|)"#]);
    assert_eq!(ok("if ($arg_x){ }"), ["if ($arg_x)"]);
}

#[test]
fn only_four_bytes_are_whitespace() {
    assert_eq!(ok("x a\u{a0}b;"), ["x a\u{a0}b"]);
    assert_eq!(dirs_b(b"x a\x0bb\x0cc;"), ["x a\u{b}b\u{c}c"]);
}

#[test]
fn comments_between_arguments() {
    let src = b"add_header X-P a # c\n;\nlog_format main '$a' # (comment with spaces)\n  '$b';";
    let t = tree(src);
    assert!(t.errors.is_empty());
    assert_eq!(dirs_b(src), ["add_header X-P|a", "log_format main|$a|$b"]);
    let c: Vec<&[u8]> = t.comments().iter().map(|r| &src[r.as_range()]).collect();
    assert_eq!(c, [&b"# c"[..], &b"# (comment with spaces)"[..]]);
}

#[test]
fn quoted_names_and_utf8() {
    assert_eq!(ok(r#""add_header" X-P v;"#), ["add_header X-P|v"]);
    assert_eq!(ok("# Привет\nx \"значение\";"), ["x значение"]);
    // Latin-1 bytes are ordinary bytes.
    let src = b"x M\xfclln;";
    let t = tree(src);
    let d = t.roots(src).next().unwrap();
    assert_eq!(d.arg_bytes(0).unwrap().as_ref(), b"M\xfclln");
}

#[test]
fn regexes_with_braces() {
    assert_eq!(ok(r#"location ~ "^/a{2}$" { }"#), ["location ~|^/a{2}$"]);
    assert_eq!(ok("location = /x{ }"), ["location =|/x"]);
    assert_eq!(
        ok(r#"if ($http_user_agent ~* "\.(js|css)$") { }"#),
        [r#"if ($http_user_agent|~*|\.(js|css)$|)"#]
    );
    assert_eq!(
        ok("types { text/html html htm; }"),
        ["types ", "text/html html|htm"]
    );
    assert_eq!(
        ok("geo $a { default 0; 10.0.0.0/8 1; }"),
        ["geo $a", "default 0", "10.0.0.0/8 1"]
    );
    assert_eq!(
        ok(r#"map $uri $x { "~^/a{2}$" 1; '' 2; default 0; }"#),
        ["map $uri|$x", "~^/a{2}$ 1", " 2", "default 0"]
    );
    // Unquoted: nginx reads `{` as the block start and then the unknown directive `2}$`.
    let src = b"location ~ ^/a{2}$ {\n  return 200;\n}\n";
    let e = errs(src);
    // The braces no longer balance either.
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("1: unknown directive \"2}$\""), "{e:?}");
    assert_eq!(e[1], "4: unexpected end of file, expecting \"}\"");
    assert!(e[0].contains("must be quoted"));
    // In a map, nginx's handler refuses any block.
    assert_eq!(
        errs(b"map $a $b {\n  ~^x{1,5}$ 1;\n}\n"),
        [
            "2: unexpected \"{\"",
            "4: unexpected end of file, expecting \"}\""
        ]
    );
}

#[test]
fn lua_blocks_are_kept_raw() {
    let cases: &[(&str, &str)] = &[
        (
            r#"content_by_lua_block { ngx.say("{") }"#,
            r#" ngx.say("{") "#,
        ),
        (
            "content_by_lua_block { local s = [[ } ]] }",
            " local s = [[ } ]] ",
        ),
        (
            "content_by_lua_block { local s = [==[ ]] } ]=] ]==] }",
            " local s = [==[ ]] } ]=] ]==] ",
        ),
        ("content_by_lua_block { --[[ } ]] x() }", " --[[ } ]] x() "),
        (
            "content_by_lua_block {\n --[[ }\n } ]]\n x() }",
            "\n --[[ }\n } ]]\n x() ",
        ),
        ("content_by_lua_block { -- }\n x() }", " -- }\n x() "),
        (
            r"content_by_lua_block { local a = 'a\'}' }",
            r" local a = 'a\'}' ",
        ),
        (
            "content_by_lua_block { if x then t = {a = {}} end }",
            " if x then t = {a = {}} end ",
        ),
        ("content_by_lua_block {}", ""),
    ];
    for (src, body) in cases {
        let t = tree(src.as_bytes());
        assert!(t.errors.is_empty(), "{src}: {:?}", t.errors);
        let d = t.roots(src.as_bytes()).next().unwrap();
        assert_eq!(d.lua_body(), Some(body.as_bytes()), "{src}");
        assert_eq!(d.arg_count(), 0);
    }
    let src = b"set_by_lua_block $v {\n return 1\n}\nx y;";
    assert_eq!(dirs_b(src), ["set_by_lua_block $v", "x y"]);
    let src = br#"location / { "rewrite_by_lua_block" { a = "}" } return 200; }"#;
    assert_eq!(
        dirs_b(src),
        ["location /", "rewrite_by_lua_block ", "return 200"]
    );
    assert_eq!(
        errs(b"content_by_lua_block {\n x = 1\n"),
        ["1: unexpected end of file, expecting terminating characters for lua code block"]
    );
    assert_eq!(
        errs(b"content_by_lua_block {\n x = [[ }\n"),
        ["2: Lua code block missing the closing long bracket \"]]\", the inlined Lua code may be too long"]
    );
}

#[test]
fn end_of_file_and_brace_errors() {
    assert_eq!(
        errs(b"x \"abc;"),
        ["1: unexpected end of file, expecting \";\" or \"}\""]
    );
    assert_eq!(
        errs(b"http {\n  x y;\n"),
        ["3: unexpected end of file, expecting \"}\""]
    );
    assert_eq!(errs(b"server {\n return 204 }\n"), ["2: unexpected \"}\""]);
    assert_eq!(errs(b"x;\n}\n"), ["2: unexpected \"}\""]);
    assert_eq!(errs(b"\n;"), ["2: unexpected \";\""]);
    assert_eq!(errs(b"{ x; }"), ["1: unexpected \"{\""]);
    assert_eq!(
        errs(b"x\\"),
        ["1: unexpected end of file, expecting \";\" or \"}\""]
    );
    // Recovery: errors do not stop the parse.
    let src = b"a {\n b c }\n d;\n}\ne f;\n";
    assert_eq!(errs(src), ["2: unexpected \"}\"", "4: unexpected \"}\""]);
    assert_eq!(dirs_b(src), ["a ", "b c", "d ", "e f"]);
    let t = tree(src);
    assert!(matches!(t.get(DirectiveId(1)).end, DirectiveEnd::Missing));
}

#[test]
fn block_structure_and_paths() {
    let src = b"http {\n    server {\n        location / {\n            return 200;\n        }\n    }\n}\n";
    let t = tree(src);
    let ret = t.all(src).find(|d| d.is("return")).unwrap();
    assert_eq!(ret.block_path(), ["http", "server", "location"]);
    assert_eq!(ret.indentation(), Some(&b"            "[..]));
    let http = t.roots(src).next().unwrap();
    assert_eq!(http.indentation(), Some(&b""[..]));
    // A directive after another on its line, or after a CR alone, has no indentation.
    let src2 = b"a;  b;\n\tc;\r  d;\r\n e;";
    let t2 = tree(src2);
    let ind: Vec<_> = t2.all(src2).map(|d| d.indentation()).collect();
    assert_eq!(
        ind,
        [
            Some(&b""[..]),
            None,
            Some(&b"\t"[..]),
            None,
            Some(&b" "[..])
        ]
    );
    assert_eq!(http.children().count(), 1);
    let DirectiveEnd::Block { open, close } = http.end() else {
        panic!("not a block")
    };
    assert_eq!(open.start, 5);
    assert_eq!(close.map(|c| c.end as usize), Some(src.len() - 1));
    assert_eq!(http.span().end as usize, src.len() - 1);
    assert_eq!(t.roots(src).count(), 1);
}

#[test]
fn comments_for_suppressions() {
    let src = b"http {\n    # gatelint: ignore[a]\n    # second\n    listen 80; # gatelint: ignore[b]\n\n    # detached\n\n    x y; z w;  # after z\n}\n";
    let t = tree(src);
    let text =
        |r: crate::source::TextRange| String::from_utf8_lossy(&src[r.as_range()]).into_owned();
    let listen = t.all(src).find(|d| d.is("listen")).unwrap();
    let lead: Vec<String> = listen.leading_comments().into_iter().map(text).collect();
    assert_eq!(lead, ["# gatelint: ignore[a]", "# second"]);
    assert_eq!(
        listen.trailing_comment().map(text).as_deref(),
        Some("# gatelint: ignore[b]")
    );
    let x = t.all(src).find(|d| d.is("x")).unwrap();
    assert!(x.leading_comments().is_empty());
    assert_eq!(x.trailing_comment(), None);
    let z = t.all(src).find(|d| d.is("z")).unwrap();
    assert_eq!(z.trailing_comment().map(text).as_deref(), Some("# after z"));
    let http = t.roots(src).next().unwrap();
    assert_eq!(http.trailing_comment(), None);
}

#[test]
fn crlf_bom_and_trailing_comment() {
    let src = b"events {\r\n}\r\nhttp { x y; }\r\n# end";
    assert_eq!(dirs_b(src), ["events ", "http ", "x y"]);
    let t = tree(src);
    assert!(t.errors.is_empty());
    assert_eq!(&src[t.comments()[0].as_range()], b"# end");
    // Lines count LF only; a CR belongs to the line it ends.
    assert_eq!(errs(b"a;\r\nb;\r\n}\r\n"), ["3: unexpected \"}\""]);
    let src = b"\xEF\xBB\xBFuser www;";
    let t = tree(src);
    assert!(t.bom);
    assert_eq!(
        t.roots(src).next().unwrap().name_word().raw(),
        b"\xEF\xBB\xBFuser"
    );
}

#[test]
fn too_long_parameters_match_nginx() {
    // Each verdict was checked against `nginx -t` 1.22.1.
    fn tok(len: usize) -> Vec<u8> {
        let mut t = b"E".to_vec();
        t.extend(std::iter::repeat(b'A').take(len - 1));
        t
    }
    fn conf(pre: &[u8], t: &[u8], post: &[u8]) -> Vec<u8> {
        [b"env ".as_slice(), pre, t, post, b"\nevents {}\n"].concat()
    }
    let started = "1: too long parameter \"EAAAAAAAAA...\" started".to_string();
    let dq = "1: too long parameter, probably missing terminating \"\"\" character".to_string();
    let none: Vec<String> = Vec::new();
    let cases: Vec<(Vec<u8>, Vec<String>)> = vec![
        (conf(b"", &tok(4094), b";"), none.clone()),
        (conf(b"", &tok(4094), b" ;"), none.clone()),
        (conf(b"", &tok(4095), b";"), none.clone()),
        (conf(b"", &tok(4095), b" ;"), vec![started.clone()]),
        (conf(b"", &tok(4095), b"  ;"), vec![started.clone()]),
        (conf(b"", &tok(4096), b";"), vec![started.clone()]),
        (conf(b"\"", &tok(4094), b"\";"), none.clone()),
        (conf(b"\"", &tok(4094), b"\" ;"), vec![started.clone()]),
        (conf(b"\"", &tok(4095), b"\";"), vec![started.clone()]),
        (conf(b"\"", &tok(4096), b"\";"), vec![dq.clone()]),
        (conf(b"\"", &tok(5000), b"\" ;"), vec![dq.clone()]),
    ];
    for (src, want) in cases {
        assert_eq!(errs(&src), want, "len {}", src.len());
    }
    let comment = |n: usize| [b"#".as_slice(), &vec![b'c'; n - 1], b"\nevents {}\n"].concat();
    assert_eq!(errs(&comment(4095)), none);
    assert_eq!(
        errs(&comment(4096)),
        ["1: too long parameter \"#ccccccccc...\" started"]
    );
    // A token that reaches the end of the file within one buffer: nginx reports the end
    // of file; one that does not fit reports its length first.
    let mut src = b"env ".to_vec();
    src.extend(tok(4096));
    assert_eq!(
        errs(&src),
        ["1: unexpected end of file, expecting \";\" or \"}\""]
    );
    src.push(b'A');
    assert_eq!(
        errs(&src),
        [
            started.as_str(),
            "1: unexpected end of file, expecting \";\" or \"}\""
        ]
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let mut src = Vec::new();
    for _ in 0..200_000 {
        src.extend_from_slice(b"a {");
    }
    let t = tree(&src);
    assert_eq!(t.directive_count(), 200_000);
    assert_eq!(t.errors.len(), 1);
    let mut closed = src.clone();
    closed.extend(std::iter::repeat(b'}').take(200_000));
    let t = tree(&closed);
    assert!(t.errors.is_empty());
    let last = t.all(&closed).last().unwrap();
    assert_eq!(last.block_path().len(), 199_999);
}

#[test]
fn many_stray_braces_stay_linear() {
    let mut src = vec![b'{'; 100_000];
    for _ in 0..100_000 {
        src.extend_from_slice(b"a;");
    }
    let t = tree(&src);
    assert_eq!(t.directive_count(), 100_000);
    assert_eq!(t.errors.len(), 100_001);
    let src = b"http { { x; } }";
    let t = tree(src);
    assert_eq!(
        t.all(src).find(|d| d.is("x")).unwrap().block_path(),
        ["http"]
    );
}

#[test]
fn arbitrary_bytes_round_trip() {
    let samples: &[&[u8]] = &[
        b"",
        b"\"",
        b"'",
        b"\\",
        b"}}}{{{;;;",
        b"#",
        b"a\"b'c\\",
        b"content_by_lua_block {",
        b"content_by_lua_block { [[",
        b"content_by_lua_block { --[==[",
        b"\xff\xfe\x00;{}",
        b"x \"a\"\"b\"'c'd;",
    ];
    for s in samples {
        tree(s);
    }
}

mod loader {
    use super::super::*;
    use crate::source::Files;
    use std::path::{Path, PathBuf};

    fn mem(files: &[(&str, &str)]) -> MemorySource {
        let mut m = MemorySource::new();
        for (p, t) in files {
            m.insert(*p, t.as_bytes().to_vec());
        }
        m
    }

    #[test]
    fn includes_resolve_with_globs_contexts_and_errors() {
        let mut src = mem(&[
            (
                "/etc/nginx/nginx.conf",
                "http {\n  include conf.d/*.conf;\n  server {\n    include snippets/php.conf;\n    include missing.conf;\n    include nomatch/*.conf;\n  }\n}\n",
            ),
            ("/etc/nginx/conf.d/b.conf", "server { include snippets/php.conf; }\n"),
            ("/etc/nginx/conf.d/a.conf", "upstream u { server 127.0.0.1; }\n"),
            ("/etc/nginx/conf.d/.hidden.conf", "junk"),
            ("/etc/nginx/snippets/php.conf", "fastcgi_pass unix:/run/php.sock;\n"),
        ]);
        let mut files = Files::new();
        let cfg = load_from(
            Path::new("/etc/nginx/nginx.conf"),
            None,
            &mut files,
            &mut src,
        )
        .unwrap();
        let paths: Vec<PathBuf> = cfg
            .files
            .iter()
            .map(|f| files.get(f.file).path.clone())
            .collect();
        assert_eq!(
            paths,
            [
                "/etc/nginx/nginx.conf",
                "/etc/nginx/conf.d/a.conf",
                "/etc/nginx/conf.d/b.conf",
                "/etc/nginx/snippets/php.conf"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(cfg.errors.len(), 1);
        assert_eq!(
            cfg.errors[0].message,
            "open() \"/etc/nginx/missing.conf\" failed (2: No such file or directory)"
        );
        let php = &cfg.files[3];
        assert_eq!(
            php.contexts,
            vec![vec!["http".to_string(), "server".to_string()]]
        );
        assert_eq!(cfg.files[1].contexts, vec![vec!["http".to_string()]]);
        // php.conf is included twice (from nginx.conf and from b.conf) but parsed once.
        assert_eq!(
            cfg.includes
                .iter()
                .filter(|e| e.targets.contains(&php.file))
                .count(),
            2
        );
        let glob_edge = &cfg.includes[0];
        assert_eq!(glob_edge.local_context, ["http"]);
        assert_eq!(glob_edge.targets.len(), 2);
        assert!(cfg.files.iter().all(|f| f.tree.is_ok()));
        assert!(!cfg.is_ok());
    }

    /// A source that records what it was told to prefetch.
    struct Recording {
        inner: MemorySource,
        prefetched: Vec<Vec<PathBuf>>,
    }

    impl FileSource for Recording {
        fn check(&mut self, path: &Path) -> std::io::Result<()> {
            self.inner.check(path)
        }
        fn read(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
            self.inner.read(path)
        }
        fn glob(&mut self, pattern: &Path) -> std::io::Result<Vec<PathBuf>> {
            self.inner.glob(pattern)
        }
        fn prefetch(&mut self, paths: &[PathBuf]) {
            self.prefetched.push(paths.to_vec());
        }
    }

    #[test]
    fn glob_matches_are_announced_before_they_are_read() {
        let mut rec = Recording {
            inner: mem(&[
                (
                    "/n/nginx.conf",
                    "include one/*.conf;\ninclude many/*.conf;\ninclude many/*.conf;\ninclude x.conf;\n",
                ),
                ("/n/one/a.conf", ""),
                ("/n/many/b.conf", "include ../x.conf;"),
                ("/n/many/a.conf", ""),
                ("/n/many/c.conf", ""),
                ("/n/x.conf", ""),
            ]),
            prefetched: Vec::new(),
        };
        let walked = walk(
            Path::new("/n/nginx.conf"),
            None,
            &mut rec,
            WalkOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(walked.paths.len(), 6);
        // A single match is not worth a hint; a glob repeated adds nothing new.
        assert_eq!(
            rec.prefetched,
            [vec![
                PathBuf::from("/n/many/a.conf"),
                PathBuf::from("/n/many/b.conf"),
                PathBuf::from("/n/many/c.conf")
            ]]
        );
        // The crossplane printer announces the same files.
        rec.prefetched.clear();
        let mut out = Vec::new();
        crossplane::write_crossplane(Path::new("/n/nginx.conf"), None, &mut rec, &mut out).unwrap();
        assert_eq!(rec.prefetched.len(), 1);
        assert_eq!(rec.prefetched[0].len(), 3);
    }

    #[test]
    fn the_file_system_reads_announced_files_and_reports_vanished_ones() {
        let dir = tempfile::tempdir().unwrap();
        // More files than the window of open files, so it is refilled as reads go.
        let paths: Vec<PathBuf> = (0..600)
            .map(|i| {
                let p = dir.path().join(format!("{i:03}.conf"));
                std::fs::write(&p, format!("worker_processes {i};\n")).unwrap();
                p
            })
            .collect();
        let mut fs = FsSource::new();
        fs.prefetch(&paths);
        // Changed after it was opened ahead: the read sees the file as it is now.
        std::fs::write(&paths[0], "changed;\n").unwrap();
        std::fs::remove_file(&paths[599]).unwrap();
        assert_eq!(fs.read(&paths[0]).unwrap(), b"changed;\n");
        // Out of order, and a file never announced.
        assert_eq!(fs.read(&paths[7]).unwrap(), b"worker_processes 7;\n");
        for (i, p) in paths.iter().enumerate().take(599).skip(1) {
            let want = format!("worker_processes {i};\n");
            if i != 7 {
                assert_eq!(fs.read(p).unwrap(), want.as_bytes(), "{i}");
            }
        }
        let err = fs.read(&paths[599]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(fs.read(&dir.path().join("never.conf")).is_err());
        // Nothing is left open once every announced file was read.
        assert!(fs.ready.is_empty() && fs.pending.is_empty());
    }

    #[test]
    fn slim_walks_keep_the_graph_and_share_block_paths() {
        let mut src = mem(&[
            (
                "/s/nginx.conf",
                "http {\n  include sites/*.conf;\n  server { include p.conf; }\n}\n",
            ),
            (
                "/s/sites/a.conf",
                "server { location / { include p.conf; } }\n",
            ),
            (
                "/s/sites/b.conf",
                "server { location / { include p.conf; } }\n",
            ),
            ("/s/p.conf", "include /s/nginx.conf;\n"),
        ]);
        let mut whole = Vec::new();
        let full = walk(
            Path::new("/s/nginx.conf"),
            None,
            &mut src,
            WalkOptions::default(),
            &mut |v| whole.push(v.includes),
        )
        .unwrap();
        let mut per_file = Vec::new();
        let slim = walk(
            Path::new("/s/nginx.conf"),
            None,
            &mut src,
            WalkOptions {
                slim_includes: true,
                ..WalkOptions::default()
            },
            &mut |v| per_file.push(v.includes),
        )
        .unwrap();
        // The files still get everything; the result keeps the graph only.
        assert_eq!(per_file[0][0].pattern, "sites/*.conf");
        assert_eq!(per_file[0][1].resolved, PathBuf::from("/s/p.conf"));
        assert!(slim
            .includes
            .iter()
            .all(|i| i.pattern.is_empty() && i.local_context.is_empty()));
        assert_eq!(per_file[1][0].local_context, ["server", "location"]);
        assert_eq!(slim.cycles(), full.cycles());
        assert_eq!(slim.cycles().len(), 1);
        let contexts = full.contexts();
        assert_eq!(slim.contexts(), contexts);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(contexts[1], [s(&["http"])]);
        assert_eq!(
            contexts[3],
            [s(&["http", "server"]), s(&["http", "server", "location"])]
        );
        // Each distinct path once in the table.
        let (table, ids) = full.context_ids();
        assert_eq!(table.len(), 4);
        assert_eq!(ids[1], ids[2]);
        assert_eq!(
            ids.iter()
                .map(|f| f
                    .iter()
                    .map(|&c| table[c as usize].clone())
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            contexts
        );
    }

    #[test]
    fn json_dump_places_cycle_errors_at_their_include() {
        let mut src = mem(&[
            ("/j/main.conf", "events {}\n\n  include a.conf;\n"),
            ("/j/a.conf", "# loop\né; include main.conf;\n"),
        ]);
        let mut out = Vec::new();
        let ok = dump::write_json(Path::new("/j/main.conf"), None, &mut src, &mut out).unwrap();
        assert!(!ok);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let e = &v["include_errors"][0];
        assert_eq!(e["file"], 1);
        assert_eq!(
            e["message"],
            "include cycle: \"/j/main.conf\" -> \"/j/a.conf\" -> \"/j/main.conf\""
        );
        assert_eq!(
            e["range"],
            // Columns count characters: `é` is two bytes, one column.
            serde_json::json!({"start": {"line": 2, "column": 4, "offset": 11},
                               "end": {"line": 2, "column": 22, "offset": 29}})
        );
        assert_eq!(v["contexts"], serde_json::json!([[[]], [[]]]));
    }

    #[test]
    fn the_file_system_globs_one_folder_as_the_glob_crate_does() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a.conf",
            "b.conf",
            ".hidden.conf",
            "x.txt",
            "c d.conf",
            "é.conf",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.conf")).unwrap();
        std::fs::write(dir.path().join("sub.conf/in.conf"), "").unwrap();
        let root = dir.path().to_str().unwrap().to_string();
        let mut fs = FsSource::new();
        for pattern in [
            "*.conf",
            "*",
            "?.conf",
            "[ab].conf",
            "[!a]*.conf",
            "*.c[",
            "sub.conf/*",
            "*/in.conf",
            "nope/*.conf",
            "*.CONF",
        ] {
            let full = format!("{root}/{pattern}");
            let mut ours = fs.glob(Path::new(&full)).unwrap();
            ours.sort();
            let mut theirs: Vec<PathBuf> = glob::glob_with(
                &full,
                glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: true,
                },
            )
            .map(|g| g.filter_map(Result::ok).collect())
            .unwrap_or_default();
            theirs.sort();
            assert_eq!(ours, theirs, "{pattern}");
        }
        // The glob crate answers `.*` with `.` and `..` only; glob(3) also lists the
        // hidden files, and `.` and `..` are folders, which includes skip anyway.
        assert_eq!(
            fs.glob(&dir.path().join(".*")).unwrap(),
            [dir.path().join(".hidden.conf")]
        );
        let mut names = |pattern: &str| -> Vec<String> {
            let mut v: Vec<String> = fs
                .glob(&dir.path().join(pattern))
                .unwrap()
                .iter()
                .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names("*.conf"),
            ["a.conf", "b.conf", "c d.conf", "sub.conf", "é.conf"]
        );
        assert!(names("*.c[").is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_in_a_globbed_folder_are_included_as_nginx_does() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.conf"), "").unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"\xff.conf");
        if std::fs::write(dir.path().join(odd), "").is_err() {
            eprintln!("skipped: this file system refuses non-UTF-8 names");
            return;
        }
        let mut found = FsSource::new().glob(&dir.path().join("*.conf")).unwrap();
        found.sort();
        let mut want = vec![dir.path().join("a.conf"), dir.path().join(odd)];
        want.sort();
        assert_eq!(found, want);
    }

    #[test]
    fn plain_json_strings_are_told_apart_eight_bytes_at_a_time() {
        use super::super::crossplane::is_plain_json;
        let slow = |b: &[u8], non_ascii: bool| {
            b.iter()
                .all(|&c| c >= 0x20 && c != b'"' && c != b'\\' && (non_ascii || c < 0x7f))
        };
        // Every single odd byte at every place of a 19-byte word, next to neighbours
        // that could borrow or carry into it.
        for odd in [
            0u8, 1, 0x1f, b'"', b'\\', 0x7f, 0x80, 0x85, 0x9f, 0xa2, 0xdc, 0xff, b' ', b'~',
        ] {
            for neighbour in [b'a', 0x80, 0x85, 0xff, 0x20] {
                for at in 0..19 {
                    let mut w = vec![neighbour; 19];
                    w[at] = odd;
                    for non_ascii in [false, true] {
                        let want = slow(&w, non_ascii);
                        // The fast answer may only err towards "not plain".
                        let got = is_plain_json(&w, non_ascii);
                        assert!(!got || want, "{w:?} {non_ascii}");
                        if neighbour < 0x80 && odd < 0x80 {
                            assert_eq!(got, want, "{w:?} {non_ascii}");
                        }
                    }
                }
            }
        }
        assert!(is_plain_json(
            "fastcgi_pass unix:/run/php.sock".as_bytes(),
            false
        ));
        assert!(!is_plain_json("été là-bas, très loin".as_bytes(), false));
        assert!(is_plain_json("été là-bas, très loin".as_bytes(), true));
    }

    #[test]
    fn crossplane_line_numbers_count_every_newline() {
        // Directives far apart and close together, with bytes that look like `\n`
        // to a careless bit trick (0x0a plus or minus one, high-bit bytes).
        let mut src = String::new();
        for i in 0..40 {
            src.push_str(&"\n".repeat(i % 11));
            src.push_str(&format!("a{i} \"\u{b}\u{9}é\u{7f}\";"));
            if i % 3 == 0 {
                src.push_str("\r\n\n\n\n\n\n\n\n\n");
            }
        }
        let mut m = mem(&[("/l/nginx.conf", src.as_str())]);
        let mut out = Vec::new();
        crossplane::write_crossplane(Path::new("/l/nginx.conf"), None, &mut m, &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let lines: Vec<u64> = v["config"][0]["parsed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["line"].as_u64().unwrap())
            .collect();
        let li = crate::source::LineIndex::new(src.as_bytes());
        let tree = parse(src.as_bytes());
        let want: Vec<u64> = tree
            .all(src.as_bytes())
            .map(|d| li.line_of(d.span().start) as u64 + 1)
            .collect();
        assert_eq!(lines.len(), 40);
        assert_eq!(lines, want);
    }

    #[test]
    fn include_cycles_are_reported_not_followed_forever() {
        let mut src = mem(&[
            ("/c/main.conf", "include a.conf;\n"),
            ("/c/a.conf", "include b.conf;\n"),
            ("/c/b.conf", "include a.conf;\ninclude main.conf;\n"),
        ]);
        let mut files = Files::new();
        let cfg = load_from(Path::new("/c/main.conf"), None, &mut files, &mut src).unwrap();
        assert_eq!(cfg.files.len(), 3);
        let msgs: Vec<&str> = cfg.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "include cycle: \"/c/a.conf\" -> \"/c/b.conf\" -> \"/c/a.conf\"",
                "include cycle: \"/c/main.conf\" -> \"/c/a.conf\" -> \"/c/b.conf\" -> \"/c/main.conf\""
            ]
        );
    }

    #[test]
    fn prefix_overrides_the_main_folder_and_main_must_exist() {
        let mut src = mem(&[("/m/nginx.conf", "include x.conf;"), ("/p/x.conf", "a b;")]);
        let mut files = Files::new();
        let cfg = load_from(
            Path::new("/m/nginx.conf"),
            Some(Path::new("/p")),
            &mut files,
            &mut src,
        )
        .unwrap();
        assert_eq!(cfg.files.len(), 2);
        assert!(cfg.is_ok());
        let mut files = Files::new();
        assert!(load_from(Path::new("/nope.conf"), None, &mut files, &mut src).is_err());
    }

    #[test]
    fn deep_include_chains_are_iterative() {
        let mut src = MemorySource::new();
        let n = 20_000;
        for i in 0..n {
            src.insert(
                format!("/d/{i}.conf"),
                format!("include {}.conf;\n", i + 1).into_bytes(),
            );
        }
        src.insert(format!("/d/{n}.conf"), b"include 0.conf;\n".to_vec());
        let mut files = Files::new();
        let cfg = load_from(Path::new("/d/0.conf"), None, &mut files, &mut src).unwrap();
        assert_eq!(cfg.files.len(), n + 1);
        assert_eq!(cfg.errors.len(), 1);
        assert!(cfg.errors[0]
            .message
            .starts_with("include cycle: \"/d/0.conf\" -> \"/d/1.conf\""));
    }
}

mod crossplane_format {
    use super::super::crossplane::{prepare_if_args, py_str};

    #[test]
    fn if_arguments_lose_their_outer_parentheses() {
        let mut a: Vec<String> = ["($x", "=", "a b", ")"].map(String::from).to_vec();
        prepare_if_args(&mut a);
        assert_eq!(a, ["$x", "=", "a b"]);
        let mut a: Vec<String> = vec!["($arg_x)".into()];
        prepare_if_args(&mut a);
        assert_eq!(a, ["$arg_x"]);
        let mut a: Vec<String> = vec!["(".into(), "-f".into(), "$x".into(), ")".into()];
        prepare_if_args(&mut a);
        assert_eq!(a, ["-f", "$x"]);
    }

    #[test]
    fn strings_are_written_like_python_json() {
        let mut out = Vec::new();
        py_str(&mut out, "a\"\\\n\u{7f}é😀\u{1}").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"\\\n\u007f\u00e9\ud83d\ude00\u0001""#
        );
    }
}
