//! Every format over one small report: snapshots, plus checks of the key fields.

use super::*;
use crate::diagnostic::{Edit, Fix};
use crate::source::SourceFile;

const NGINX: &str = "server {\n    listen 80;\n    location ~ \\.php$ {\n        fastcgi_pass unix:/run/php/php8.1-fpm.sock;\n        fastcgi_read_timeout 5s;\n    }\n}\n";
/// A pool file with CRLF line ends and a Latin-1 byte in its comment.
const POOL: &[u8] = b"; pool caf\xe9\r\n[www]\r\nlisten = /run/php/php8.2-fpm.sock\r\nrequest_terminate_timeout = 60s\r\npm.max_children = 5\r\n";

const RULES: &[RuleMeta] = &[
    RuleMeta {
        id: "fastcgi-pass-socket-mismatch",
        summary: "fastcgi_pass points at a socket no PHP-FPM pool listens on",
        severity: Severity::Error,
        fix: Some(Applicability::DisplayOnly),
        kinds: &[],
        options: &[],
    },
    RuleMeta {
        id: "fastcgi-read-timeout-low",
        summary: "fastcgi_read_timeout is shorter than the time PHP may run",
        severity: Severity::Warning,
        fix: Some(Applicability::Unsafe),
        kinds: &[],
        options: &[],
    },
    RuleMeta {
        id: "pm-explicit",
        summary: "the pool relies on the default process manager",
        severity: Severity::Info,
        fix: Some(Applicability::Safe),
        kinds: &[],
        options: &[],
    },
];

fn find(text: &[u8], needle: &str) -> TextRange {
    let at = text
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("needle in fixture");
    TextRange::from_usize(at, at + needle.len())
}

struct Fixture {
    files: Files,
    kinds: Vec<(FileId, FileKind)>,
    diagnostics: Vec<Diagnostic>,
}

impl Fixture {
    fn report(&self) -> Report<'_> {
        Report {
            files: &self.files,
            file_kinds: &self.kinds,
            diagnostics: &self.diagnostics,
            rules: RULES,
            context: None,
        }
    }
}

fn fixture() -> Fixture {
    let mut files = Files::new();
    let nginx = files.add(SourceFile::new(
        "etc/nginx/sites-enabled/app.conf",
        NGINX.as_bytes().to_vec(),
    ));
    let pool = files.add(SourceFile::new(
        "etc/php/8.2/fpm/pool.d/www.conf",
        POOL.to_vec(),
    ));
    let n = NGINX.as_bytes();
    let socket = find(n, "unix:/run/php/php8.1-fpm.sock");
    let timeout = find(n, "5s");
    let listen = find(POOL, "/run/php/php8.2-fpm.sock");
    let children = find(POOL, "pm.max_children = 5");
    // Listed out of order on purpose: every format sorts.
    let diagnostics = vec![
        Diagnostic::new(
            "pm-explicit",
            Severity::Info,
            pool,
            children,
            "pool www sets pm.max_children but leaves pm at its default",
        )
        .with_related(pool, find(POOL, "[www]"), "pool www starts here")
        .with_fix(Fix::new(
            "write pm = dynamic",
            Applicability::Safe,
            vec![Edit::insert(pool, children.start, "pm = dynamic\r\n")],
        )),
        Diagnostic::new(
            "fastcgi-read-timeout-low",
            Severity::Warning,
            nginx,
            timeout,
            "fastcgi_read_timeout 5s is shorter than the pool's 60s request_terminate_timeout",
        )
        .with_help("raise fastcgi_read_timeout to at least 65s")
        .with_related(
            pool,
            find(POOL, "request_terminate_timeout = 60s"),
            "request_terminate_timeout set here",
        )
        .with_fix(Fix::new(
            "set fastcgi_read_timeout 65s",
            Applicability::Unsafe,
            vec![Edit::replace(nginx, timeout, "65s")],
        )),
        Diagnostic::new(
            "fastcgi-pass-socket-mismatch",
            Severity::Error,
            nginx,
            socket,
            "fastcgi_pass points at unix:/run/php/php8.1-fpm.sock, but no pool listens there",
        )
        .with_related(pool, listen, "pool www listens on /run/php/php8.2-fpm.sock")
        .with_help("point fastcgi_pass at the socket a pool listens on")
        .with_fix(Fix::new(
            "use unix:/run/php/php8.2-fpm.sock",
            Applicability::DisplayOnly,
            vec![Edit::replace(
                nginx,
                socket,
                "unix:/run/php/php8.2-fpm.sock",
            )],
        )),
    ];
    Fixture {
        files,
        kinds: vec![(nginx, FileKind::Nginx), (pool, FileKind::Fpm)],
        diagnostics,
    }
}

fn render(format: OutputFormat, color: bool) -> String {
    let fx = fixture();
    let mut out = Vec::new();
    write_report(format, &fx.report(), &mut out, color).unwrap();
    String::from_utf8(out).expect("output is UTF-8 even for non-UTF-8 input")
}

#[test]
fn human_snapshot() {
    let out = render(OutputFormat::Human, false);
    assert!(!out.contains('\u{1b}'), "no colour without color");
    insta::assert_snapshot!(out);
}

#[test]
fn human_with_color_uses_escapes() {
    assert!(render(OutputFormat::Human, true).contains('\u{1b}'));
}

#[test]
fn short_snapshot() {
    insta::assert_snapshot!(render(OutputFormat::Short, false));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render(OutputFormat::Json, false));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!(render(OutputFormat::Sarif, false));
}

#[test]
fn github_snapshot() {
    insta::assert_snapshot!(render(OutputFormat::Github, false));
}

#[test]
fn summary_counts() {
    let fx = fixture();
    assert_eq!(
        fx.report().summary(),
        Summary {
            files: 2,
            errors: 1,
            warnings: 1,
            infos: 1,
            fixable: 2,
            fixable_safe: 1
        }
    );
}

#[test]
fn short_lines_are_sorted_and_columns_count_scalars() {
    let out = render(OutputFormat::Short, false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        "etc/nginx/sites-enabled/app.conf:4:22: error[fastcgi-pass-socket-mismatch] fastcgi_pass points at unix:/run/php/php8.1-fpm.sock, but no pool listens there"
    );
    assert!(lines[1]
        .starts_with("etc/nginx/sites-enabled/app.conf:5:30: warning[fastcgi-read-timeout-low] "));
    assert!(lines[2].starts_with("etc/php/8.2/fpm/pool.d/www.conf:5:1: info[pm-explicit] "));
}

fn json_value(format: OutputFormat) -> serde_json::Value {
    serde_json::from_str(&render(format, false)).expect("valid JSON")
}

#[test]
fn json_positions_follow_the_contract() {
    let v = json_value(OutputFormat::Json);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["files"][1]["kind"], "fpm");
    let info = &v["diagnostics"][2];
    assert_eq!(info["rule"], "pm-explicit");
    // Line 5 of the CRLF file starts after "; pool caf\xe9\r\n[www]\r\n..." at byte 85.
    let start = &info["range"]["start"];
    assert_eq!(
        (start["line"].as_u64(), start["column"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(
        start["offset"].as_u64(),
        Some(find(POOL, "pm.max_children").start as u64)
    );
    assert_eq!(info["range"]["end"]["column"], 20);
    assert_eq!(info["fix"]["edits"][0]["replacement"], "pm = dynamic\r\n");
    // The Latin-1 byte counts as one column: "listen" is on line 3, the value at column 10.
    let related = &v["diagnostics"][0]["related"][0];
    assert_eq!(related["path"], "etc/php/8.2/fpm/pool.d/www.conf");
    assert_eq!(related["range"]["start"]["line"], 3);
    assert_eq!(related["range"]["start"]["column"], 10);
    assert_eq!(v["summary"]["fixable"], 2);
    assert!(v["summary"].get("fixable_safe").is_none());
    assert!(v["diagnostics"][2]["help"].is_null());
}

fn schema() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/schema/gatelint-json-v1.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
        .expect("schema is JSON")
}

#[test]
fn json_output_matches_the_published_schema() {
    let validator = jsonschema::draft202012::new(&schema()).expect("schema compiles");
    let doc = json_value(OutputFormat::Json);
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // An empty run validates too.
    let files = Files::new();
    let empty = Report {
        files: &files,
        file_kinds: &[],
        diagnostics: &[],
        rules: RULES,
        context: None,
    };
    let mut out = Vec::new();
    write_report(OutputFormat::Json, &empty, &mut out, false).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(validator.is_valid(&doc));
}

#[test]
fn the_schema_rejects_broken_documents() {
    let validator = jsonschema::draft202012::new(&schema()).expect("schema compiles");
    let good = json_value(OutputFormat::Json);
    type Breakage = Box<dyn Fn(&mut serde_json::Value)>;
    let breakages: Vec<(&str, Breakage)> = vec![
        (
            "wrong schema_version",
            Box::new(|v| v["schema_version"] = 2.into()),
        ),
        (
            "unknown severity",
            Box::new(|v| v["diagnostics"][0]["severity"] = "fatal".into()),
        ),
        (
            "column 0",
            Box::new(|v| v["diagnostics"][0]["range"]["start"]["column"] = 0.into()),
        ),
        (
            "missing path",
            Box::new(|v| {
                v["diagnostics"][1].as_object_mut().unwrap().remove("path");
            }),
        ),
        (
            "bad applicability",
            Box::new(|v| v["diagnostics"][1]["fix"]["applicability"] = "maybe".into()),
        ),
        (
            "unknown kind",
            Box::new(|v| v["files"][0]["kind"] = "apache".into()),
        ),
        (
            "negative count",
            Box::new(|v| v["summary"]["errors"] = (-1).into()),
        ),
    ];
    for (what, breakage) in breakages {
        let mut doc = good.clone();
        breakage(&mut doc);
        assert!(
            !validator.is_valid(&doc),
            "the schema accepted a document with {what}"
        );
    }
}

#[test]
fn sarif_key_fields() {
    let v = json_value(OutputFormat::Sarif);
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"]
        .as_str()
        .unwrap()
        .contains("sarif-schema-2.1.0"));
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gatelint");
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "note");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        let region = &r["locations"][0]["physicalLocation"]["region"];
        for key in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[key].as_u64().unwrap() >= 1, "{key}");
        }
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(!uri.starts_with('/') && !uri.contains('\\'));
        assert_eq!(
            r["partialFingerprints"]["gatelint/v1"]
                .as_str()
                .unwrap()
                .len(),
            16
        );
    }
    let timeout = &results[1];
    assert_eq!(timeout["ruleId"], "fastcgi-read-timeout-low");
    assert_eq!(timeout["relatedLocations"][0]["id"], 1);
    assert_eq!(
        timeout["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "etc/php/8.2/fpm/pool.d/www.conf"
    );
    let replacement = &timeout["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "65s");
    assert_eq!(replacement["deletedRegion"]["startLine"], 5);
    assert_eq!(replacement["deletedRegion"]["startColumn"], 30);
    assert_eq!(replacement["deletedRegion"]["endColumn"], 32);
}

#[test]
fn sarif_fingerprints_survive_inserted_lines() {
    let fx = fixture();
    let mut out = Vec::new();
    write_report(OutputFormat::Sarif, &fx.report(), &mut out, false).unwrap();
    let before: serde_json::Value = serde_json::from_slice(&out).unwrap();

    // The same findings after two comment lines were added on top of the nginx file.
    let mut shifted = fixture();
    let mut text = b"# one\n# two\n".to_vec();
    text.extend_from_slice(NGINX.as_bytes());
    shifted.files.set_text(FileId(0), text);
    for d in &mut shifted.diagnostics {
        if d.file == FileId(0) {
            d.range = TextRange::new(d.range.start + 12, d.range.end + 12);
        }
    }
    let mut out = Vec::new();
    write_report(OutputFormat::Sarif, &shifted.report(), &mut out, false).unwrap();
    let after: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for i in 0..3 {
        let r = |v: &serde_json::Value| v["runs"][0]["results"][i]["partialFingerprints"].clone();
        assert_eq!(r(&before), r(&after));
    }
    assert_eq!(
        after["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
}

#[test]
fn github_commands_escape_and_map_severities() {
    let out = render(OutputFormat::Github, false);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with(
        "::error file=etc/nginx/sites-enabled/app.conf,line=4,col=22,endLine=4,endColumn=51,title=gatelint (fastcgi-pass-socket-mismatch)::"
    ));
    assert!(lines[1].starts_with("::warning "));
    assert!(lines[2].starts_with("::notice "));
    assert!(
        lines[1].contains("%0Ahelp: raise"),
        "newlines in data are escaped"
    );
}

/// Validate against the official SARIF 2.1.0 schema (OASIS, errata 01) when
/// `GATELINT_SARIF_SCHEMA` names a copy of it; the schema is not shipped in this repository.
/// It is published at
/// <https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json>.
#[test]
fn sarif_matches_the_official_schema_when_given() {
    let Some(path) = std::env::var_os("GATELINT_SARIF_SCHEMA") else {
        eprintln!("skipping: set GATELINT_SARIF_SCHEMA to a copy of sarif-schema-2.1.0.json");
        return;
    };
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("readable schema"))
            .expect("schema is JSON");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let doc = json_value(OutputFormat::Sarif);
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&broken));
}

#[test]
fn odd_inputs_render_in_every_format() {
    let mut files = Files::new();
    let empty = files.add(SourceFile::new("empty.conf", vec![]));
    let bom = files.add(SourceFile::new(
        "bom.ini",
        b"\xef\xbb\xbfa = 1\r\n".to_vec(),
    ));
    let bytes = files.add(SourceFile::new("bytes.conf", b"\xff\xfe\xfd".to_vec()));
    let utf8 = files.add(SourceFile::new(
        "./dir/ü file.conf",
        "żółw;\n".as_bytes().to_vec(),
    ));
    let kinds = vec![
        (empty, FileKind::Nginx),
        (bom, FileKind::PhpIni),
        (bytes, FileKind::Nginx),
        (utf8, FileKind::Nginx),
    ];
    let diagnostics = vec![
        Diagnostic::new(
            "at-empty",
            Severity::Error,
            empty,
            TextRange::new(0, 0),
            "empty file",
        ),
        Diagnostic::new(
            "past-end",
            Severity::Warning,
            bom,
            TextRange::new(5, 500),
            "past the end\nsecond line",
        )
        .with_related(empty, TextRange::new(3, 9), "also nowhere"),
        Diagnostic::new(
            "bytes",
            Severity::Info,
            bytes,
            TextRange::new(1, 2),
            "invalid bytes",
        ),
        Diagnostic::new(
            "mid-char",
            Severity::Info,
            utf8,
            TextRange::new(1, 4),
            "inside a character",
        )
        .with_fix(Fix::new(
            "append",
            Applicability::Safe,
            vec![Edit::insert(utf8, 99, "x")],
        )),
    ];
    let report = Report {
        files: &files,
        file_kinds: &kinds,
        diagnostics: &diagnostics,
        rules: &[],
        context: None,
    };
    for format in [
        OutputFormat::Human,
        OutputFormat::Short,
        OutputFormat::Json,
        OutputFormat::Sarif,
        OutputFormat::Github,
    ] {
        for color in [false, true] {
            let mut out = Vec::new();
            write_report(format, &report, &mut out, color).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("empty.conf"), "{format:?}: {text}");
        }
    }
    let mut out = Vec::new();
    write_report(OutputFormat::Short, &report, &mut out, false).unwrap();
    let short = String::from_utf8(out).unwrap();
    assert!(
        short.contains("bom.ini:1:4: warning[past-end] past the end second line\n"),
        "{short}"
    );
    assert!(
        short.contains("dir/ü file.conf:1:2: info[mid-char]"),
        "{short}"
    );

    let mut out = Vec::new();
    write_report(OutputFormat::Json, &report, &mut out, false).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    assert!(validator.is_valid(&doc));
    // Past-the-end ranges are clamped to the end of the text.
    let past = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "past-end")
        .unwrap();
    assert_eq!(past["range"]["end"]["offset"], 10);
    assert_eq!(past["range"]["end"]["line"], 2);

    let mut out = Vec::new();
    write_report(OutputFormat::Sarif, &report, &mut out, false).unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let results = &sarif["runs"][0]["results"];
    assert!(results.as_array().unwrap().iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir/%C3%BC%20file.conf"
    }));
    // Rules that are not registered still get an entry, so every ruleIndex resolves.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), 4);
    for r in results.as_array().unwrap() {
        assert_eq!(
            rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"],
            r["ruleId"]
        );
    }
}

#[test]
fn human_snippets_far_into_a_file_show_the_right_lines() {
    let text: String = (1..=5000).map(|i| format!("line{i};\n")).collect();
    let mut files = Files::new();
    let id = files.add(SourceFile::new("big.conf", text.clone().into_bytes()));
    let lone_cr = files.add(SourceFile::new("cr.conf", b"a\rb;\nc;\n".to_vec()));
    let at = |needle: &str| find(text.as_bytes(), needle);
    let diagnostics =
        vec![
            Diagnostic::new("far", Severity::Warning, id, at("line4000;"), "far down")
                .with_related(id, at("line4002;"), "two lines below"),
            Diagnostic::new(
                "cr",
                Severity::Info,
                lone_cr,
                TextRange::new(5, 7),
                "after a lone CR",
            ),
        ];
    let kinds = vec![(id, FileKind::Nginx), (lone_cr, FileKind::Nginx)];
    let report = Report {
        files: &files,
        file_kinds: &kinds,
        diagnostics: &diagnostics,
        rules: &[],
        context: None,
    };
    let mut out = Vec::new();
    write_report(OutputFormat::Human, &report, &mut out, false).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("[big.conf:4000:1]"), "{out}");
    assert!(
        out.contains("\n 3999 | line3999;\n 4000 | line4000;\n"),
        "{out}"
    );
    assert!(out.contains("\n 4002 | line4002;\n"), "{out}");
    assert!(
        !out.contains("line3997"),
        "only the context lines are shown: {out}"
    );
    // nginx does not end a line at a lone CR; neither does the snippet.
    assert!(
        out.contains("[cr.conf:2:1]") && out.contains("\n 2 | c;\n"),
        "{out}"
    );
}

#[test]
fn an_empty_report_says_so_in_every_format() {
    let mut files = Files::new();
    let id = files.add(SourceFile::new("ok.conf", b"events {}\n".to_vec()));
    let kinds = vec![(id, FileKind::Nginx)];
    let report = Report {
        files: &files,
        file_kinds: &kinds,
        diagnostics: &[],
        rules: RULES,
        context: None,
    };
    let run = |format| {
        let mut out = Vec::new();
        write_report(format, &report, &mut out, false).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert_eq!(run(OutputFormat::Human), "no problems found in 1 file\n");
    assert_eq!(run(OutputFormat::Short), "");
    assert_eq!(run(OutputFormat::Github), "");
    let json: serde_json::Value = serde_json::from_str(&run(OutputFormat::Json)).unwrap();
    assert_eq!(json["diagnostics"], serde_json::json!([]));
    assert_eq!(json["summary"]["files"], 1);
    let sarif: serde_json::Value = serde_json::from_str(&run(OutputFormat::Sarif)).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
}
