//! Differential test: mutate configurations nginx accepts, run the real `nginx -t` and
//! gatelint on each mutant, and require that gatelint reports an error exactly when nginx
//! refuses the file, with its first error (in nginx's reading order) on nginx's line.
//! Remaining differences are listed with their reasons in
//! `testdata/nginx-t/differences.tsv`; an unlisted difference fails the test.
//!
//! nginx is found through `GATELINT_NGINX` or on PATH (also /usr/sbin); without it the
//! test says so and passes.

use super::lint_dir;
use crate::config::Config;
use crate::diagnostic::Severity;
use crate::model::nginx::NginxModel;
use crate::model::nginx_directives::{
    built_with, lookup, DirectiveSpec, DEBIAN_BOOKWORM_CONFIGURE, DIRECTIVES,
};
use crate::source::SourceFile;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Rules whose errors nginx reports after it has read the whole http block.
const DEFERRED: &[&str] = &[
    "nginx-duplicate-location",
    "nginx-ssl-certificate-without-key",
    "nginx-ssl-listen-without-certificate",
    "nginx-unknown-zone",
];

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn find_nginx() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("GATELINT_NGINX") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

fn nginx_version(nginx: &Path) -> Option<String> {
    let out = Command::new(nginx).arg("-v").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let v = text.split("nginx/").nth(1)?;
    Some(v.split_whitespace().next()?.to_string())
}

/// What nginx said: refused or not, and the line of its first error when it names one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NginxVerdict {
    refused: bool,
    line: Option<u32>,
    message: String,
}

fn run_nginx(nginx: &Path, dir: &Path) -> NginxVerdict {
    let conf = dir.join("nginx.conf");
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-q")
        .arg("-p")
        .arg(format!("{}/", dir.display()))
        .arg("-c")
        .arg(&conf)
        .arg("-g")
        .arg(format!("error_log {}/logs/error.log;", dir.display()))
        .output()
        .expect("run nginx");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let pick = lines
        .iter()
        .find(|l| l.contains("[emerg]"))
        .or_else(|| {
            lines
                .iter()
                .rev()
                .find(|l| l.contains("[warn]") && l.contains("nginx.conf:"))
        })
        .copied()
        .unwrap_or("");
    let message = pick
        .split_once("]: ")
        .map(|(_, m)| m)
        .or_else(|| pick.split_once("] ").map(|(_, m)| m))
        .unwrap_or(pick)
        .replace(&format!("{}/", dir.display()), "");
    let message = match message.split_once(' ') {
        Some((pid, rest)) if pid.ends_with(':') && pid.contains('#') => rest.to_string(),
        _ => message,
    };
    let line = message
        .rsplit_once("nginx.conf:")
        .and_then(|(_, l)| l.trim().parse().ok());
    NginxVerdict {
        refused: !out.status.success(),
        line,
        message,
    }
}

/// gatelint's errors: the first in nginx's reading order, with the lines it may be on.
#[derive(Debug, Clone)]
struct GatelintVerdict {
    /// (rule, message, acceptable lines) of the first error.
    first: Option<(String, String, Vec<u32>)>,
    /// Every error, for reporting.
    all: Vec<String>,
}

fn terminator_of(model: &NginxModel, offset: u32) -> Option<u32> {
    let d = model
        .directives
        .iter()
        .enumerate()
        .filter(|(_, d)| d.range.start <= offset && offset < d.range.end.max(d.range.start + 1))
        .max_by_key(|(_, d)| d.range.start)?;
    Some(super::super::walk::terminator(
        model,
        crate::model::nginx::DirectiveId(d.0 as u32),
    ))
}

/// An error with its place in nginx's reading order, rule, message and possible lines.
type OrderedError = ((u8, u32), String, String, Vec<u32>);

fn run_gatelint(dir: &Path, config: &Config) -> GatelintVerdict {
    let (ws, diags) = lint_dir(&dir.join("nginx.conf"), config);
    let model = &ws.stack.nginx;
    let mut errors: Vec<OrderedError> = Vec::new();
    let line = |f: &SourceFile, o: u32| f.line_col(o).line;
    for p in &ws.stack.problems {
        let f = ws.files.get(p.file);
        errors.push((
            (0, p.range.start),
            "syntax-error".into(),
            p.message.clone(),
            vec![
                line(f, p.range.start),
                line(f, p.range.end.max(p.range.start)),
            ],
        ));
    }
    for d in diags.iter().filter(|d| d.severity == Severity::Error) {
        let f = ws.files.get(d.file);
        let term = terminator_of(model, d.range.start).unwrap_or(d.range.start);
        let phase = u8::from(DEFERRED.contains(&d.rule));
        let mut lines = vec![line(f, d.range.start), line(f, term)];
        if phase == 1 {
            // nginx reports these while it merges, at the `}` of the http block.
            lines.extend(
                model
                    .blocks
                    .iter()
                    .filter(|b| b.kind == crate::model::nginx::BlockKind::Http && b.file == d.file)
                    .map(|b| line(f, b.close)),
            );
        }
        errors.push(((phase, term), d.rule.to_string(), d.message.clone(), lines));
    }
    errors.sort_by_key(|e| e.0);
    GatelintVerdict {
        all: errors
            .iter()
            .map(|e| format!("{}: {} {}", e.3[0], e.1, e.2))
            .collect(),
        first: errors.into_iter().next().map(|e| (e.1, e.2, e.3)),
    }
}

/// Whether nginx and gatelint agree on one file.
fn agree(n: &NginxVerdict, g: &GatelintVerdict) -> bool {
    match (&g.first, n.refused) {
        (None, false) => true,
        (Some((_, _, lines)), true) => n.line.map_or(true, |l| lines.contains(&l)),
        _ => false,
    }
}

// ---------------------------------------------------------------- seeds

/// Self-contained configurations written for this test (nginx accepts each).
const OWN_SEEDS: &[(&str, &str)] = &[
    (
        "own/php-fpm",
        "worker_processes auto;\nevents {\n    worker_connections 1024;\n}\nhttp {\n    server_tokens off;\n    server {\n        listen 8000;\n        location / {\n            fastcgi_pass 127.0.0.1:9000;\n        }\n    }\n}\n",
    ),
    (
        "own/proxy",
        "events {\n    worker_connections 512;\n    multi_accept on;\n}\nhttp {\n    sendfile on;\n    tcp_nopush on;\n    keepalive_timeout 65s;\n    client_max_body_size 16m;\n    gzip on;\n    gzip_comp_level 5;\n    gzip_types text/css application/json;\n    proxy_buffer_size 16k;\n    proxy_buffers 8 16k;\n    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        '' close;\n    }\n    upstream app {\n        server 127.0.0.1:8080 max_fails=3 fail_timeout=10s;\n        keepalive 16;\n    }\n    server {\n        listen 80 default_server;\n        server_name example.com www.example.com;\n        root /var/www/html;\n        index index.html;\n        location / {\n            try_files $uri $uri/ @app;\n        }\n        location @app {\n            proxy_pass http://app;\n            proxy_http_version 1.1;\n            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection $connection_upgrade;\n            proxy_read_timeout 60s;\n            proxy_connect_timeout 5s;\n            proxy_buffering on;\n        }\n        location = /health {\n            access_log off;\n            return 200 ok;\n        }\n        location ~ \\.php$ {\n            fastcgi_pass unix:/run/php/php8.2-fpm.sock;\n            fastcgi_index index.php;\n            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n            fastcgi_read_timeout 30s;\n            fastcgi_buffers 16 16k;\n            fastcgi_buffer_size 32k;\n        }\n    }\n    server {\n        listen 8080;\n        server_name api.example.com;\n        limit_req_zone $binary_remote_addr zone=one:10m rate=1r/s;\n        location /api/ {\n            limit_except GET POST {\n                deny all;\n            }\n            if ($request_method = OPTIONS) {\n                return 204;\n            }\n            proxy_pass http://127.0.0.1:9000/;\n            add_header X-Frame-Options DENY always;\n            expires 1h;\n        }\n    }\n}\n",
    ),
];

/// Files that corpus configurations commonly include by a relative name, written next to
/// each mutant as small stand-ins (nginx and gatelint both read them).
const STUB_INCLUDES: &[(&str, &str)] = &[
    (
        "mime.types",
        "types {\n    text/html html htm;\n    text/css css;\n}\n",
    ),
    (
        "fastcgi_params",
        "fastcgi_param QUERY_STRING $query_string;\n",
    ),
    (
        "fastcgi.conf",
        "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n",
    ),
    ("uwsgi_params", "uwsgi_param QUERY_STRING $query_string;\n"),
    ("scgi_params", "scgi_param QUERY_STRING $query_string;\n"),
    ("proxy_params", "proxy_set_header Host $http_host;\n"),
];

fn seeds() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = OWN_SEEDS
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let Ok(manifest) = std::fs::read_to_string(corpus.join("MANIFEST.tsv")) else {
        eprintln!(
            "corpus folder {} is absent: own seeds only",
            corpus.display()
        );
        return out;
    };
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [path, "nginx", "yes", note] = cols.as_slice() else {
            continue;
        };
        if !note.starts_with("nginx -t ok") {
            continue;
        }
        let Ok(bytes) = std::fs::read(corpus.join(path)) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        // Only files that stand alone: the temp folder holds nothing but the stub files
        // of [`STUB_INCLUDES`].
        let includes_ok = text.lines().all(|l| {
            let l = l.trim_start();
            !l.starts_with("include")
                || STUB_INCLUDES.iter().any(|(n, _)| {
                    l.trim_end()
                        .trim_end_matches(';')
                        .trim_end()
                        .ends_with(&format!(" {n}"))
                })
        });
        if !includes_ok || text.contains("load_module") || text.contains("ssl_") {
            continue;
        }
        out.push((path.to_string(), text));
    }
    out
}

// ---------------------------------------------------------------- mutations

/// Directive names a Debian nginx knows without loading modules.
fn debian_builtin(name: &str) -> bool {
    lookup(name)
        .iter()
        .any(|s| built_with(s, DEBIAN_BOOKWORM_CONFIGURE) && !is_dynamic(s))
}

fn is_dynamic(spec: &DirectiveSpec) -> bool {
    use crate::model::nginx_directives::Origin;
    match spec.origin {
        Origin::Optional { flag } => DEBIAN_BOOKWORM_CONFIGURE
            .iter()
            .any(|f| f.strip_suffix("=dynamic") == Some(flag)),
        _ => false,
    }
}

/// One mutant: its text and what was done.
fn mutate(text: &str, model: &NginxModel, rng: &mut Rng) -> Option<(String, String)> {
    let ds: Vec<usize> = (0..model.directives.len()).collect();
    if ds.is_empty() {
        return None;
    }
    let i = ds[rng.below(ds.len())];
    let d = &model.directives[i];
    let (s, e) = (d.range.start as usize, d.range.end as usize);
    let (ns, ne) = (d.name_range().start as usize, d.name_range().end as usize);
    let splice = |a: usize, b: usize, with: &str| -> String {
        format!("{}{}{}", &text[..a], with, &text[b..])
    };
    let bytes = text.as_bytes();
    let simple = d.block.is_none() && bytes.get(e.wrapping_sub(1)) == Some(&b';');
    let kind = rng.below(10);
    Some(match kind {
        0 if simple => (splice(e - 1, e, ""), format!("drop ; of {}", d.name)),
        1 => (splice(ne, ne, ";"), format!("add ; after {}", d.name)),
        2 if simple => {
            // Move to the body of another block (or the top of the file).
            let blocks: Vec<_> = model
                .blocks
                .iter()
                .filter(|b| b.directive.is_some())
                .collect();
            let at = if blocks.is_empty() || rng.below(4) == 0 {
                0
            } else {
                blocks[rng.below(blocks.len())].open as usize + 1
            };
            if at >= s && at <= e {
                return None;
            }
            let piece = format!("\n{}\n", &text[s..e]);
            let removed = splice(s, e, "");
            let at2 = if at > e { at - (e - s) } else { at };
            let moved = format!("{}{}{}", &removed[..at2], piece, &removed[at2..]);
            (moved, format!("move {} to offset {at}", d.name))
        }
        3 => {
            let name: Vec<char> = d.name.chars().collect();
            if name.len() < 2 {
                return None;
            }
            let k = rng.below(name.len() - 1);
            let mut m = name.clone();
            match rng.below(3) {
                0 => m.swap(k, k + 1),
                1 => {
                    m.remove(k);
                }
                _ => m.insert(k, name[k]),
            }
            let m: String = m.into_iter().collect();
            (splice(ns, ne, &m), format!("misspell {} as {m}", d.name))
        }
        4 if !d.args.is_empty() => {
            let last = &d.args[d.args.len() - 1];
            let (a, b) = (last.range.start as usize, last.range.end as usize);
            (
                splice(a, b, ""),
                format!("drop last argument of {}", d.name),
            )
        }
        5 if !d.args.is_empty() => {
            let a = &d.args[0];
            let w = &text[a.range.start as usize..a.range.end as usize];
            let at = a.range.end as usize;
            (
                splice(at, at, &format!(" {w}")),
                format!("repeat first argument of {}", d.name),
            )
        }
        6 if simple => {
            let copy = format!("\n{}", &text[s..e]);
            (splice(e, e, &copy), format!("repeat {}", d.name))
        }
        7 if !d.args.is_empty() => {
            let bad = ["maybe", "10x", "1q", "-5", "fast", "1m30", "on", "0"][rng.below(8)];
            let a = &d.args[rng.below(d.args.len())];
            (
                splice(a.range.start as usize, a.range.end as usize, bad),
                format!("value {bad} in {}", d.name),
            )
        }
        8 => {
            // A bad value where the directive's setter parses one (flag, enum, time, size).
            use crate::model::nginx_directives::ValueKind;
            let spec = lookup(&d.name).first()?;
            let bad = match spec.value {
                ValueKind::Flag => ["yes", "enabled", "1"][rng.below(3)],
                ValueKind::Time => ["5x", "1h30", "fast", "-1s"][rng.below(4)],
                ValueKind::Size | ValueKind::Bufs => ["1q", "big", "16kb", "1.5m"][rng.below(4)],
                ValueKind::Enum(_) | ValueKind::Bitmask(_) => ["sometimes", "TLSv9"][rng.below(2)],
                ValueKind::Number => ["ten", "1k"][rng.below(2)],
                ValueKind::Any => return None,
            };
            let a = d.args.last()?;
            (
                splice(a.range.start as usize, a.range.end as usize, bad),
                format!("bad value {bad} in {}", d.name),
            )
        }
        _ => {
            // Insert a Debian built-in directive with a random argument count into a block.
            let spec = &DIRECTIVES[rng.below(DIRECTIVES.len())];
            if !debian_builtin(spec.name)
                || spec.args & crate::model::nginx_directives::ARG_BLOCK != 0
            {
                return None;
            }
            let blocks: Vec<_> = model
                .blocks
                .iter()
                .filter(|b| b.directive.is_some())
                .collect();
            if blocks.is_empty() {
                return None;
            }
            let b = blocks[rng.below(blocks.len())];
            let n = rng.below(3);
            let args: Vec<&str> = (0..n)
                .map(|_| ["on", "10s", "16k", "off", "x"][rng.below(5)])
                .collect();
            let line = format!("\n{} {};\n", spec.name, args.join(" "));
            let at = b.open as usize + 1;
            (
                splice(at, at, &line),
                format!("insert {} {}", spec.name, args.join(" ")),
            )
        }
    })
}

// ---------------------------------------------------------------- the test

fn differences_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/nginx-t/differences.tsv")
}

/// Listed differences: key (seed and mutation) → reason.
fn listed() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(differences_file()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((
                format!("{}\t{}", cols.first()?, cols.get(1)?),
                cols.last()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn differential_against_real_nginx() {
    let Some(nginx) = find_nginx() else {
        eprintln!("SKIP differential_against_real_nginx: no nginx (set GATELINT_NGINX or put nginx on PATH)");
        return;
    };
    let Some(version) = nginx_version(&nginx) else {
        eprintln!(
            "SKIP differential_against_real_nginx: `{} -v` gave no version",
            nginx.display()
        );
        return;
    };
    let config = Config {
        nginx_version: Some(version.clone()),
        ..Config::default()
    };
    let target: usize = std::env::var("GATELINT_NGINX_T_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(800);
    let listed = listed();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
    for (name, text) in STUB_INCLUDES {
        std::fs::write(dir.path().join(name), text).expect("write stub include");
    }
    let write = |text: &str| std::fs::write(dir.path().join("nginx.conf"), text).expect("write");

    // Keep the seeds nginx and gatelint both accept here.
    let mut usable = Vec::new();
    let all_seeds = seeds();
    let considered = all_seeds.len();
    for (name, text) in all_seeds {
        write(&text);
        let n = run_nginx(&nginx, dir.path());
        let g = run_gatelint(dir.path(), &config);
        if !n.refused && g.first.is_none() {
            let (ws, _) = lint_dir(&dir.path().join("nginx.conf"), &config);
            usable.push((name, text, ws.stack.nginx));
        }
    }
    eprintln!("seeds: {} usable of {considered}", usable.len());
    assert!(!usable.is_empty(), "no usable seed");

    let (mut total, mut agreed, mut skipped) = (0usize, 0usize, 0usize);
    let (mut refused, mut accepted) = (0usize, 0usize);
    let mut unlisted = Vec::new();
    let mut found_listed = 0usize;
    let mut attempts = 0usize;
    while total < target && attempts < target * 20 {
        attempts += 1;
        let (name, text, model) = &usable[rng.below(usable.len())];
        let Some((mutant, what)) = mutate(text, model, &mut rng) else {
            continue;
        };
        write(&mutant);
        let g = run_gatelint(dir.path(), &config);
        // Names that need a module Debian's nginx does not build in are out of scope.
        let (ws, _) = lint_dir(&dir.path().join("nginx.conf"), &config);
        if ws
            .stack
            .nginx
            .directives
            .iter()
            .any(|d| !lookup(&d.name).is_empty() && !debian_builtin(&d.name))
        {
            skipped += 1;
            continue;
        }
        let n = run_nginx(&nginx, dir.path());
        total += 1;
        if n.refused {
            refused += 1;
        } else {
            accepted += 1;
        }
        if agree(&n, &g) {
            agreed += 1;
            continue;
        }
        let key = format!("{name}\t{what}");
        if listed.contains_key(&key) {
            found_listed += 1;
            continue;
        }
        unlisted.push(format!(
            "{key}\tnginx: {}\tgatelint: {}\tREASON?",
            if n.refused {
                n.message.clone()
            } else {
                "ok".into()
            },
            g.all.first().cloned().unwrap_or_else(|| "ok".into())
        ));
    }
    eprintln!(
        "nginx -t differential (nginx {version}): {agreed}/{total} agree ({:.1}%), {refused} refused / {accepted} accepted by nginx, {found_listed} listed differences, {} unlisted, {skipped} skipped (modules Debian does not build in), {} seeds",
        100.0 * agreed as f64 / total.max(1) as f64,
        unlisted.len(),
        usable.len()
    );
    assert!(total >= target.min(500), "only {total} mutants");
    assert!(
        unlisted.is_empty(),
        "differences not listed in testdata/nginx-t/differences.tsv:\n{}",
        unlisted.join("\n")
    );
    assert!(
        agreed * 100 >= total * 98,
        "agreement below 98%: {agreed}/{total}"
    );
}
