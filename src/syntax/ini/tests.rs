//! Unit tests of the ini parser; the differential tests against PHP live in `tests/`.

use super::*;

fn php(text: &str) -> IniTree {
    parse(text.as_bytes(), Dialect::PhpIni)
}

fn values(tree: &IniTree) -> Vec<(String, String)> {
    tree.entries()
        .filter(|(n, _)| !n.dropped)
        .map(|(_, e)| (e.key_str(), e.value.text_str()))
        .collect()
}

#[test]
fn simple_entries_and_round_trip() {
    let src = "; c\n[PHP]\nmemory_limit = 256M ; x\n\nerror_reporting = E_ALL & ~E_DEPRECATED\r\n";
    let t = php(src);
    assert!(t.errors.is_empty(), "{:?}", t.errors);
    assert_eq!(t.reassemble(src.as_bytes()), src.as_bytes());
    assert_eq!(
        values(&t),
        vec![
            ("memory_limit".into(), "256M".into()),
            ("error_reporting".into(), "24575".into())
        ]
    );
    let (_, e) = t.entries().next().unwrap();
    assert_eq!(&src[e.value.range.as_range()], "256M");
    assert_eq!(&src[e.key_range.as_range()], "memory_limit");
}

/// Snippets that exercise every corner of the grammar, each compared with PHP.
pub(crate) const SNIPPETS: &[&str] = &[
    "a = 1\n",
    "a = ''\nb = 1\n",
    "a = 'x'y''\n",
    "a = x'y\nb=1\n",
    "a = x'y'z'\n",
    "a = '\nb=1\n",
    "a = ''x\nb=1\n",
    "[x] ; c\n\na = b = c\n",
    "[x]\na = (1\n",
    "a = on x\n",
    "a = ${}\n",
    "[broken\n",
    "a = 1 |\n",
    "a=$\nb=c\n",
    "a = x)\n",
    "a[=1\n",
    "a[b=1\n",
    "a[b]c=1\n",
    "a[b] = 1\n[s]\nb[] = 2\n",
    "\u{feff}a=1\n",
    "a=1\r\nb=2\rc=3",
    "a = \"x\" y \"z\" \n",
    "a = yes\nb = true\t \nc = None\nd = NULL\ne = Onion\nf = off ; c\n",
    "a = \"abc",
    "a",
    "a\n=1\n",
    "a = 1\u{1}b\n",
    "a = {x}\nb = x}\n",
    "x=1\n${a}=2\n",
    "a = \"x\\\\\"\n",
    "a = \"x\\\" \nb=1\n",
    "a = \"C:\\path\\to\\\"\nb = 2\n",
    " [ s ] \nk=v\n",
    "[s]x\nk=v\n",
    "[]\nk=v\n",
    "=1\n",
    "[ s ]\nk=v\n",
    "[\ts\t]\nk=v\n",
    "a[ 5 ]=w\na[ x y ]=z\na[]=q\na[]=r\n",
    "a[${HOME}x] = 1\n",
    "[a'b c'd]\nk=v\n",
    "[s]y\nk=v\n",
    "[s]x = 1\n",
    "a = 1 \t",
    "a = E_ALL  ",
    "a= \"x\"\t y ",
    "a = 1 | on\n",
    "a = ${GATELINT_VAR}\nb = \"${HOME}/x\"\nc = ${NOPE}x\nd = '${HOME}'\n",
    "a = \"x$\"\nb = $literal\n",
    "a = 9999999999 | 0\nb = !0\nc=~\"5\"\nd = (1|4) & 5\ne = ~0\n",
    "k = E_ALL & ~E_DEPRECATED & ~E_STRICT\n",
    "b = \"say \\\"hi\\\" \\\\ \\$HOME \\n end\"\n",
    "c = 'single \\n \"dq\" ${HOME} ; not comment'\n",
    "d = hello world   ; trailing comment\ne = \"semi;colon\"\nf = foo\"bar\"'baz' qux\n",
    "h = \"multi\nline\"\n",
    "r = 0x1A\ns = 1e3\nu = .5\nv = -5\nw =\n",
    "sendmail_path = /usr/sbin/sendmail -t -i -f \"x@y\"\n",
    "[PATH=/var/www/site]\na=1\n[HOST=Example.COM]\nb=2\n[ \"quoted ${HOME} sec\" ]\nc=3\n[E_ALL]\nd=4\n",
    "a = 1\na = 2\n",
    "# hash comment line\n# memory_limit = 1G\na = 1 # not a comment\n",
    "# see (docs)\n",
    "#!/bin/sh\n",
    "on = 1\n",
    "none = 1\n",
    "Null = 1\n",
    "url = http://x/?y=1\n",
    "user_agent = Mozilla/5.0 (X11)\n",
    "a = (1\n",
    "a = ${HOME\n",
    "[sec;semi]\n",
    "a = ~\n",
    "a = (((1)))\nb = ((2) | (4)) ^ 1\n",
    "a = )\n",
    "a = \"${HOME\"\n",
    "a = \"x\" ; c\n[s] k = v\n",
    "a = b ; c",
    "; only a comment",
    "a = x ;",
    "\n\n\r\n\r\r",
    "key with spaces = v\n  indented = w\n\ttabbed = t\n",
    "k\t= v\nk2 =\tv2\t\n",
    "a = x y   z\n",
    "a = $\n",
    "a = x$",
    "a = x$y${HOME}\n",
    "a[\"q\"] = 1\na['r'] = 2\n",
    "a[x][y] = 1\n",
    "[s]]\n",
    "a = !\n",
    "a = 1 2 | 3\n",
    "a.b-c/d:e@f,g%h = 1\n",
    "a = \"\"\nb = \"\" \"\"\n",
    "a = \"${GATELINT_VAR}${HOME}\"\n",
    "[s\n]\n",
    "a = yes|1\n",
    "a = 1 \\\nb = 2\n",
    "a\\b = 1\n",
    "a = ~~1\n",
    "a = x\u{0}y\nb = 2\n",
    "[\u{0}]\n",
    "\u{0}\n",
    "a = é\n[ü]\nö = 1\n",
];

#[test]
fn snippets_round_trip() {
    for s in SNIPPETS {
        for d in [Dialect::PhpIni, Dialect::Fpm] {
            let t = parse(s.as_bytes(), d);
            assert_eq!(t.reassemble(s.as_bytes()), s.as_bytes(), "{s:?} {d:?}");
            let mut at = 0;
            for n in &t.nodes {
                assert_eq!(n.range.start, at, "{s:?}");
                at = n.range.end;
            }
            assert_eq!(at as usize, s.len());
        }
    }
}

#[test]
fn snippets_match_php() {
    let Some(php) = php_oracle::php_binary() else {
        return;
    };
    let env = php_oracle::php_env(&php);
    let dir = tempfile::tempdir().expect("tempdir");
    let files: Vec<_> = SNIPPETS
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = dir.path().join(format!("s{i:03}.ini"));
            std::fs::write(&p, s).expect("write");
            p
        })
        .collect();
    let bad = php_oracle::compare(&php, &env, &files);
    let shown: Vec<String> = bad
        .iter()
        .map(|b| {
            let i: usize = b[b.find("/s").unwrap() + 2..b.find(".ini").unwrap()]
                .parse()
                .unwrap();
            format!("{:?}\n{b}", SNIPPETS[i])
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        files.len(),
        shown.join("\n")
    );
}

/// The corpus files of the ini kinds: (path, kind, is php-ini).
pub(crate) fn corpus_files() -> Option<Vec<(std::path::PathBuf, String)>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let manifest = match std::fs::read_to_string(root.join("MANIFEST.tsv")) {
        Ok(m) => m,
        Err(_) => {
            eprintln!("SKIP: corpus not found at {}", root.display());
            return None;
        }
    };
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 2 {
            continue;
        }
        let (path, kind) = (cols[0], cols[1]);
        let ini_kind = matches!(kind, "fpm" | "php-ini")
            || (kind == "template" && (path.starts_with("fpm/") || path.starts_with("php-ini/")));
        if ini_kind {
            let k = if kind == "template" {
                if path.ends_with(".ini") || path.starts_with("php-ini/") {
                    "php-ini"
                } else {
                    "fpm"
                }
            } else {
                kind
            };
            out.push((root.join(path), k.to_string()));
        }
    }
    Some(out)
}

#[test]
fn corpus_round_trips() {
    let Some(files) = corpus_files() else {
        return;
    };
    assert!(files.len() > 100, "found {} files", files.len());
    for (path, kind) in &files {
        let text = std::fs::read(path).expect("read corpus file");
        let dialect = if kind == "fpm" {
            Dialect::Fpm
        } else {
            Dialect::PhpIni
        };
        for d in [dialect, Dialect::PhpIni, Dialect::Fpm] {
            let t = parse(&text, d);
            assert_eq!(t.reassemble(&text), text, "{}", path.display());
        }
    }
}

#[test]
fn corpus_php_ini_matches_php() {
    let Some(files) = corpus_files() else {
        return;
    };
    let Some(php) = php_oracle::php_binary() else {
        return;
    };
    let env = php_oracle::php_env(&php);
    let ini: Vec<_> = files
        .into_iter()
        .filter(|(_, k)| k == "php-ini")
        .map(|(p, _)| p)
        .collect();
    let bad = php_oracle::compare(&php, &env, &ini);
    eprintln!(
        "php-ini corpus: {} files, {} differ from PHP",
        ini.len(),
        bad.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn check_invariants(text: &[u8], d: Dialect) {
    let t = parse(text, d);
    assert_eq!(t.reassemble(text), text);
    let mut at = 0;
    for n in &t.nodes {
        assert_eq!(n.range.start, at);
        assert!(n.range.end > n.range.start);
        at = n.range.end;
        if let NodeKind::Entry(e) = &n.kind {
            assert!(n.range.contains_range(e.key_range));
            assert!(e.value.range.end as usize <= text.len());
        }
    }
    assert_eq!(at as usize, text.len());
    for e in &t.errors {
        assert!(e.error.range.end as usize <= text.len());
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn ini_bytes() -> impl Strategy<Value = Vec<u8>> {
        // Bytes biased towards the grammar's special characters.
        let special = prop::sample::select(
            b"=;[]\"'$\\{}()|&^~!#\r\n\t azAZ09_.-:\xef\xbb\xbf\x00\xff".to_vec(),
        );
        prop::collection::vec(prop_oneof![special, any::<u8>()], 0..300)
    }

    proptest! {
        // Past failures are kept under testdata/, so the crate's top level stays as it is.
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: Some(Box::new(
                proptest::test_runner::FileFailurePersistence::Direct("testdata/proptest-regressions/ini.txt"),
            )),
            ..ProptestConfig::default()
        })]
        #[test]
        fn never_panics_and_round_trips(bytes in ini_bytes()) {
            check_invariants(&bytes, Dialect::PhpIni);
            check_invariants(&bytes, Dialect::Fpm);
        }

        #[test]
        fn snippet_mutations_round_trip(i in 0..SNIPPETS.len(), pos in any::<prop::sample::Index>(), ins in ini_bytes()) {
            let base = SNIPPETS[i].as_bytes();
            let at = pos.index(base.len() + 1);
            let mut m = base[..at].to_vec();
            m.extend_from_slice(&ins);
            m.extend_from_slice(&base[at..]);
            check_invariants(&m, Dialect::PhpIni);
            check_invariants(&m, Dialect::Fpm);
        }
    }
}

#[test]
fn corpus_mutations_round_trip() {
    let Some(files) = corpus_files() else {
        return;
    };
    // Deterministic mutations: cut every file at many points and splice in special bytes.
    let inserts: [&[u8]; 6] = [b"\"", b"'", b"=", b"${", b"(", b"[\n"];
    for (n, (path, _)) in files.iter().enumerate() {
        let text = std::fs::read(path).expect("read");
        let step = (text.len() / 7).max(1);
        for (k, at) in (0..text.len()).step_by(step).enumerate() {
            let mut m = text[..at].to_vec();
            m.extend_from_slice(inserts[(n + k) % inserts.len()]);
            m.extend_from_slice(&text[at..]);
            check_invariants(&m, Dialect::PhpIni);
            check_invariants(&m, Dialect::Fpm);
        }
    }
}

#[test]
fn deep_nesting_is_bounded() {
    let mut s = String::from("a = ");
    s.push_str(&"(".repeat(50_000));
    s.push_str("1\n");
    let t = php(&s);
    assert_eq!(t.errors[0].error.message, "memory exhausted");
    let mut s = String::from("a = ");
    s.push_str(&"~".repeat(200_000));
    s.push_str("1\n");
    check_invariants(s.as_bytes(), Dialect::PhpIni);
}

/// rust-ini as an independent reader: on plain files both accept, keys and values agree.
#[test]
fn agrees_with_rust_ini_on_plain_files() {
    let plain = [
        "[PHP]\nmemory_limit = 256M\nmax_execution_time = 30\n\n[Date]\ndate.timezone = UTC\n",
        "[www]\nuser = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = dynamic\npm.max_children = 5\n",
        "; comment\nkey=value\nother = two words\n[s]\na.b = c/d:e\n",
    ];
    for src in plain {
        let ours = parse(src.as_bytes(), Dialect::PhpIni);
        assert!(ours.errors.is_empty());
        let theirs = ini::Ini::load_from_str(src).expect("rust-ini parses it");
        let mut section: Option<String> = None;
        let mut n = 0;
        for node in &ours.nodes {
            match &node.kind {
                NodeKind::Section(s) => section = Some(String::from_utf8_lossy(&s.name).into()),
                NodeKind::Entry(e) => {
                    let got = theirs
                        .section(section.as_deref())
                        .and_then(|p| p.get(e.key_str()))
                        .expect("rust-ini has the key");
                    assert_eq!(got, e.value.text_str(), "{src}");
                    n += 1;
                }
                _ => {}
            }
        }
        let total: usize = theirs.iter().map(|(_, p)| p.len()).sum();
        assert_eq!(n, total, "{src}");
    }
}

/// The built-in constant table holds PHP 8.2's values.
#[test]
fn builtin_constants_match_php() {
    let Some(php) = php_oracle::php_binary() else {
        return;
    };
    let env = php_oracle::php_env(&php);
    let names = [
        "E_ERROR",
        "E_WARNING",
        "E_PARSE",
        "E_NOTICE",
        "E_CORE_ERROR",
        "E_CORE_WARNING",
        "E_COMPILE_ERROR",
        "E_COMPILE_WARNING",
        "E_USER_ERROR",
        "E_USER_WARNING",
        "E_USER_NOTICE",
        "E_STRICT",
        "E_RECOVERABLE_ERROR",
        "E_DEPRECATED",
        "E_USER_DEPRECATED",
        "E_ALL",
        "PHP_MAJOR_VERSION",
        "PHP_OS",
        "PHP_OS_FAMILY",
        "PHP_EOL",
        "PHP_INT_MAX",
        "PHP_INT_SIZE",
        "DIRECTORY_SEPARATOR",
        "PATH_SEPARATOR",
        "PHP_SHLIB_SUFFIX",
        "PHP_DEBUG",
        "PHP_ZTS",
        "ZEND_THREAD_SAFE",
        "ZEND_DEBUG_BUILD",
        "INI_USER",
        "INI_PERDIR",
        "INI_SYSTEM",
        "INI_ALL",
    ];
    for n in names {
        let ours = builtin_constant(n.as_bytes()).map(|v| v.as_bytes().to_vec());
        assert_eq!(ours, env.constant(n.as_bytes()), "{n}");
    }
}

#[test]
fn value_ranges_cover_the_written_value() {
    let src = "a = \"C:\\php\\ext\\\"\nb = \"x\" 'y' ${HOME}z ; c\nc = (1 | 2)  \nd = on ; c\ne = plain text\t\n";
    let t = php(src);
    assert!(t.errors.is_empty());
    let got: Vec<&str> = t
        .entries()
        .map(|(_, e)| &src[e.value.range.as_range()])
        .collect();
    assert_eq!(
        got,
        vec![
            "\"C:\\php\\ext\\\"",
            "\"x\" 'y' ${HOME}z",
            "(1 | 2)",
            "on",
            "plain text"
        ]
    );
}

#[test]
fn consequence_notes() {
    let src = "a = 1\nurl = http://x/?y=1\nb = 2\n\nc = 3\n";
    let t = php(src);
    let note = t.consequence(&t.errors[0], src.as_bytes());
    assert!(note.contains("(3 line(s))"), "{note}");
    let (n, e) = t.entries().next().unwrap();
    assert!(!n.dropped);
    assert_eq!(e.key, b"a");
    assert_eq!(t.entries().filter(|(n, _)| n.dropped).count(), 2);
}

/// Random token soup compared with PHP: keys, values, quotes, `${}`, operators, sections,
/// comments and newlines in random order.
#[test]
fn random_inputs_match_php() {
    let Some(php) = php_oracle::php_binary() else {
        return;
    };
    const FRAGS: &[&str] = &[
        "a",
        "key",
        " ",
        "\t",
        "=",
        " = ",
        "\n",
        "\r\n",
        "\r",
        ";",
        "; c",
        "\"",
        "'",
        "${",
        "}",
        "${HOME}",
        "${GATELINT_VAR}",
        "$",
        "$x",
        "\\",
        "\\\"",
        "(",
        ")",
        "|",
        "&",
        "^",
        "~",
        "!",
        "[",
        "]",
        "[s]",
        "[]",
        "E_ALL",
        "on",
        "Off",
        "none",
        "null",
        "yes",
        "1",
        "010",
        "-5",
        "1.5",
        "x.y",
        "#",
        "{",
        "/",
        ":",
        "é",
        "\u{feff}",
        "a[",
        "k[]",
        "PATH=",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let env = php_oracle::php_env(&php);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    let mut texts = Vec::new();
    for i in 0..3000 {
        let n = 1 + next() % 30;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(FRAGS[(next() % FRAGS.len() as u64) as usize]);
        }
        let p = dir.path().join(format!("r{i:04}.ini"));
        std::fs::write(&p, &s).expect("write");
        files.push(p);
        texts.push(s);
    }
    // Line-shaped inputs, mostly valid: `key = value-pieces ; comment`.
    const KEYS: &[&str] = &[
        "a",
        "memory_limit",
        "x.y",
        "k[]",
        "k[i]",
        "[s]\nb",
        "on",
        " c",
        "d\t",
    ];
    const VALS: &[&str] = &[
        "128M",
        " ",
        "E_ALL",
        "& ~E_NOTICE",
        "| 4",
        "\"q;x\"",
        "'r;w'",
        "${HOME}",
        "/p/a:th",
        "on",
        "Off",
        "\"C:\\d\\\"",
        "$y",
        "-1",
        "(1|2)",
        "~0",
        "!1",
        "\"${GATELINT_VAR}/z\"",
        "\"\"",
        "yes",
        "é",
        "{x}",
        "a,b",
        "\\",
        "null",
    ];
    for i in 0..1500 {
        let mut s = String::new();
        for _ in 0..(1 + next() % 6) {
            s.push_str(KEYS[(next() % KEYS.len() as u64) as usize]);
            s.push_str(" = ");
            for _ in 0..(next() % 4) {
                s.push_str(VALS[(next() % VALS.len() as u64) as usize]);
            }
            if next() % 3 == 0 {
                s.push_str(" ; note");
            }
            s.push_str(if next() % 5 == 0 { "\r\n" } else { "\n" });
        }
        let p = dir.path().join(format!("l{i:04}.ini"));
        std::fs::write(&p, &s).expect("write");
        files.push(p);
        texts.push(s);
    }
    let bad = php_oracle::compare(&php, &env, &files);
    let with_errors = texts
        .iter()
        .filter(|t| parse(t.as_bytes(), Dialect::PhpIni).has_errors())
        .count();
    eprintln!(
        "random inputs: {} compared with PHP ({} with a syntax error), {} differ",
        files.len(),
        with_errors,
        bad.len()
    );
    let shown: Vec<String> = bad.iter().take(15).cloned().collect();
    assert!(bad.is_empty(), "{}", shown.join("\n"));
}

#[test]
fn nul_bytes_per_dialect() {
    // php.ini (read as a file): NUL ends the value; the next line is read.
    let t = parse(b"a = x\0y\nb = 2\n", Dialect::PhpIni);
    assert_eq!(
        values(&t),
        vec![("a".into(), "x".into()), ("b".into(), "2".into())]
    );
    // FPM passes each line as a C string: the NUL ends the line.
    let t = parse(b"a = x\0y = z\nb = 2\n", Dialect::Fpm);
    assert!(t.errors.is_empty());
    assert_eq!(t.truncations.len(), 1);
    let got: Vec<_> = t
        .entries()
        .map(|(_, e)| (e.key_str(), e.value.text_str()))
        .collect();
    assert_eq!(
        got,
        vec![("a".into(), "x".into()), ("b".into(), "2".into())]
    );
}
