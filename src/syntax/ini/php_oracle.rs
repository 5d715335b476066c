//! Differential tests against PHP itself: `parse_ini_file($f, true, INI_SCANNER_NORMAL)`
//! in the real `php` binary, compared with what our tree says PHP returns.
//!
//! PHP runs with `-n` and a fixed environment (`env -i`), and our parser gets the same
//! variables and PHP's full constant table, so the comparison is about the grammar alone.
//! The built-in constant table is checked against PHP separately.

use super::*;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The PHP binary, or None (with a visible message) when it is absent.
pub(crate) fn php_binary() -> Option<PathBuf> {
    let name = std::env::var("GATELINT_PHP").unwrap_or_else(|_| "php".into());
    let ok = Command::new(&name)
        .args(["-n", "-r", "echo PHP_MAJOR_VERSION;"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(PathBuf::from(name))
    } else {
        eprintln!("SKIP: `{name}` not found; PHP differential tests skipped");
        None
    }
}

const FIXED_ENV: [(&str, &str); 3] = [
    ("PATH", "/usr/bin:/bin"),
    ("HOME", "/home/gatelint"),
    ("GATELINT_VAR", "from-env"),
];

/// Reads NUL-separated file names on stdin, prints one canonical line per file.
const DUMP_PHP: &str = r#"
function canon($a) {
  if (!is_array($a)) return 's' . bin2hex((string)$a);
  $o = '{';
  foreach ($a as $k => $v) $o .= bin2hex((string)$k) . ':' . canon($v) . ';';
  return $o . '}';
}
$files = array_filter(explode("\0", stream_get_contents(STDIN)), 'strlen');
foreach ($files as $f) {
  $GLOBALS['err'] = '';
  set_error_handler(function($no, $str) { if ($GLOBALS['err'] === '') $GLOBALS['err'] = $str; return true; });
  $r = parse_ini_file($f, true, INI_SCANNER_NORMAL);
  restore_error_handler();
  if ($r === false) {
    preg_match('/ on line (\d+)$/', rtrim($GLOBALS['err']), $m);
    echo 'E', $m[1] ?? '?', ' ', bin2hex(preg_replace('/ in .* on line \d+$/s', '', rtrim($GLOBALS['err']))), "\n";
  } else {
    echo 'V', canon($r), "\n";
  }
}
"#;

/// Run PHP over several files at once; one result line per file.
pub(crate) fn php_results(php: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut child = Command::new("env")
        .arg("-i")
        .args(FIXED_ENV.iter().map(|(k, v)| format!("{k}={v}")))
        .arg(php)
        .args(["-n", "-r", DUMP_PHP])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn php");
    let mut input = Vec::new();
    for f in files {
        input.extend_from_slice(f.as_os_str().as_encoded_bytes());
        input.push(0);
    }
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("php output");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// PHP's constants, for an env that knows exactly what `parse_ini_string` knows.
pub(crate) struct PhpEnv {
    vars: HashMap<Vec<u8>, Vec<u8>>,
    constants: HashMap<Vec<u8>, Vec<u8>>,
}

impl IniEnv for PhpEnv {
    fn var(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.vars.get(name).cloned()
    }
    fn constant(&self, name: &[u8]) -> Option<Vec<u8>> {
        self.constants.get(name).cloned()
    }
}

pub(crate) fn php_env(php: &Path) -> PhpEnv {
    let code = r#"foreach (get_defined_constants() as $k => $v) { if (is_scalar($v) || $v === null) { if (is_bool($v)) $v = $v ? '1' : ''; elseif (is_float($v)) $v = (string)$v; echo bin2hex($k), ' ', bin2hex((string)$v), "\n"; } }"#;
    let out = Command::new("env")
        .arg("-i")
        .args(FIXED_ENV.iter().map(|(k, v)| format!("{k}={v}")))
        .arg(php)
        .args(["-n", "-r", code])
        .output()
        .expect("php constants");
    let mut constants = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((k, v)) = line.split_once(' ') {
            constants.insert(unhex(k), unhex(v));
        }
    }
    PhpEnv {
        vars: FIXED_ENV
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
        constants,
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A PHP array as `parse_ini_string` builds it: ordered, symtable keys.
#[derive(Default, Clone)]
struct PArr {
    keys: Vec<Vec<u8>>,
    vals: HashMap<Vec<u8>, PVal>,
    next: i64,
}

#[derive(Clone)]
enum PVal {
    S(Vec<u8>),
    A(PArr),
}

/// `ZEND_HANDLE_NUMERIC_STR`: a canonical decimal integer.
fn numeric_key(k: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(k).ok()?;
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
        || s == "-0"
    {
        return None;
    }
    s.parse().ok()
}

impl PArr {
    fn set(&mut self, k: Vec<u8>, v: PVal) {
        if let Some(n) = numeric_key(&k) {
            if n >= self.next {
                self.next = n.saturating_add(1);
            }
        }
        if !self.vals.contains_key(&k) {
            self.keys.push(k.clone());
        }
        self.vals.insert(k, v);
    }
    fn push(&mut self, v: PVal) {
        let k = self.next.to_string().into_bytes();
        self.set(k, v);
    }
    fn canon(&self) -> String {
        let mut o = String::from("{");
        for k in &self.keys {
            o.push_str(&hex(k));
            o.push(':');
            match &self.vals[k] {
                PVal::S(s) => {
                    o.push('s');
                    o.push_str(&hex(s));
                }
                PVal::A(a) => o.push_str(&a.canon()),
            }
            o.push(';');
        }
        o.push('}');
        o
    }
}

/// What `parse_ini_string($s, true)` returns for our tree, in the canonical form.
pub(crate) fn our_result(tree: &IniTree) -> String {
    if let Some(e) = tree.errors.first() {
        return format!("E{} {}", e.php_line, hex(e.error.message.as_bytes()));
    }
    let mut top = PArr::default();
    let mut section: Option<Vec<u8>> = None;
    for n in &tree.nodes {
        match &n.kind {
            NodeKind::Section(s) => {
                top.set(s.name.clone(), PVal::A(PArr::default()));
                section = Some(s.name.clone());
            }
            NodeKind::Entry(e) => {
                let arr = match &section {
                    None => &mut top,
                    Some(s) => match top.vals.get_mut(s) {
                        Some(PVal::A(a)) => a,
                        _ => continue,
                    },
                };
                let v = PVal::S(e.value.text.clone());
                match &e.index {
                    None => arr.set(e.key.clone(), v),
                    Some(ix) => {
                        if !matches!(arr.vals.get(&e.key), Some(PVal::A(_))) {
                            arr.set(e.key.clone(), PVal::A(PArr::default()));
                        }
                        if let Some(PVal::A(inner)) = arr.vals.get_mut(&e.key) {
                            if ix.name.is_empty() {
                                inner.push(v);
                            } else {
                                inner.set(ix.name.clone(), v);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    format!("V{}", top.canon())
}

/// Compare PHP and us over `files`; returns the mismatches as readable lines.
pub(crate) fn compare(php: &Path, env: &PhpEnv, files: &[PathBuf]) -> Vec<String> {
    let theirs = php_results(php, files);
    assert_eq!(theirs.len(), files.len(), "php printed one line per file");
    let mut bad = Vec::new();
    for (f, t) in files.iter().zip(&theirs) {
        let text = std::fs::read(f).expect("read");
        let tree = parse_with(
            &text,
            &ParseOptions {
                dialect: Dialect::PhpIni,
                env,
                earlier_keys: false,
            },
        );
        let ours = our_result(&tree);
        if &ours != t {
            let msg = |s: &str| {
                s.split_once(' ')
                    .map(|(l, m)| format!("{l} {}", String::from_utf8_lossy(&unhex(m))))
                    .unwrap_or_else(|| s.chars().take(200).collect())
            };
            bad.push(format!(
                "{}:\n  php:  {}\n  ours: {}",
                f.display(),
                msg(t),
                msg(&ours)
            ));
        }
    }
    bad
}
