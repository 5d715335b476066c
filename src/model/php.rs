//! Effective php.ini settings: the SAPI's php.ini, then its scan dir (`conf.d/*.ini` in
//! byte order), then a pool's `php_value` / `php_admin_value`. Every effective value
//! knows where it was set.
//!
//! As PHP does at start-up (`main/php_ini.c`): keys are case-sensitive; the last value
//! wins; sections mean nothing except `[PATH=…]` / `[HOST=…]`, which capture every entry
//! after them to the end of their file; a syntax error drops the rest of its file;
//! `extension=` and `zend_extension=` accumulate.

use crate::model::fpm::{DefineKind, FileSource, Pool};
use crate::model::values::{self, MemoryLimit, Quantity, Spanned, DEFAULT_MEMORY_LIMIT};
use crate::source::{FileId, Files, SourceFile, TextRange};
use crate::syntax::ini::{self, Dialect, IniEnv, IniSyntaxError, IniTree, NodeKind, ParseOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which PHP program reads the settings (defaults differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sapi {
    /// php-fpm.
    Fpm,
    /// The command line (`max_execution_time` is forced to 0).
    Cli,
}

/// Where an effective value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// PHP's built-in default (no file sets it).
    Default,
    /// A php.ini or scan-dir file.
    Ini,
    /// A pool's `php_value` / `php_flag`.
    PoolValue,
    /// A pool's `php_admin_value` / `php_admin_flag` (locked against `ini_set`).
    PoolAdmin,
    /// Forced by the SAPI after every file (the CLI's `HARDCODED_INI`).
    Sapi,
}

/// What the CLI applies after php.ini and the scan dir (`HARDCODED_INI` in
/// `sapi/cli/php_cli.c`): files cannot change these for `php` on the command line.
pub const CLI_FORCED: &[(&str, &str)] = &[
    ("html_errors", "0"),
    ("register_argc_argv", "1"),
    ("implicit_flush", "1"),
    ("output_buffering", "0"),
    ("max_execution_time", "0"),
    ("max_input_time", "-1"),
];

/// One setting as PHP ends up with it, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The ini key.
    pub key: String,
    /// The value text after the ini layer (quotes, constants, `${}` resolved).
    pub value: String,
    /// The layer that set it.
    pub layer: Layer,
    /// The file (None for a built-in default).
    pub file: Option<FileId>,
    /// The key's bytes in that file.
    pub key_range: TextRange,
    /// The value's bytes in that file (what a fix replaces).
    pub value_range: TextRange,
}

impl Setting {
    /// The value as `zend_ini_parse_quantity` reads it (sizes such as `post_max_size`),
    /// with the span of its text.
    pub fn quantity(&self) -> Spanned<Quantity> {
        Spanned {
            value: values::parse_quantity(self.value.as_bytes()),
            range: self.value_range,
        }
    }

    /// The value as an integer read with `atoll` (`max_execution_time`), with its span.
    pub fn integer(&self) -> Spanned<i64> {
        Spanned {
            value: values::atoll(self.value.as_bytes()),
            range: self.value_range,
        }
    }

    /// The value as PHP's boolean (`zend_ini_parse_bool`), with its span.
    pub fn boolean(&self) -> Spanned<bool> {
        Spanned {
            value: values::php_bool(self.value.as_bytes()),
            range: self.value_range,
        }
    }
}

/// Built-in defaults of PHP 8.2 for the keys the rules read (`main/main.c`,
/// `ext/opcache/zend_accelerator_module.c`, `main/php_globals`).
pub fn default_value(key: &str, sapi: Sapi) -> Option<&'static str> {
    Some(match key {
        "memory_limit" => "128M",
        "max_execution_time" => match sapi {
            Sapi::Fpm => "30",
            Sapi::Cli => "0",
        },
        "html_errors" => "1",
        "max_input_time" => "-1",
        "post_max_size" => "8M",
        "upload_max_filesize" => "2M",
        "max_input_vars" => "1000",
        "default_socket_timeout" => "60",
        "output_buffering" => "0",
        "display_errors" => "1",
        "log_errors" => "1",
        "realpath_cache_size" => "4096K",
        "opcache.enable" => "1",
        "opcache.enable_cli" => "0",
        "opcache.memory_consumption" => "128",
        "opcache.interned_strings_buffer" => "8",
        "opcache.max_accelerated_files" => "10000",
        "session.gc_maxlifetime" => "1440",
        _ => return None,
    })
}

/// The effective settings of one SAPI's php.ini stack.
#[derive(Debug, Default)]
pub struct PhpIni {
    /// The files read, in order, with their trees.
    pub trees: Vec<(FileId, IniTree)>,
    /// Key → the last value set outside `[PATH=]`/`[HOST=]` sections.
    values: BTreeMap<String, Setting>,
    /// `extension=` and `zend_extension=` entries, in order.
    pub extensions: Vec<Setting>,
    /// Entries under `[PATH=…]` / `[HOST=…]`: (section name, setting).
    pub scoped: Vec<(String, Setting)>,
    /// Syntax errors per file (everything after the first in a file is dropped).
    pub errors: Vec<(FileId, IniSyntaxError)>,
    /// Which defaults apply.
    pub sapi: Option<Sapi>,
    /// Keys whose last value takes a `${VAR}` from the server's environment: their value
    /// is not known here, so neither it nor the default is reported as the effective one.
    unknown: std::collections::BTreeSet<String>,
}

struct StackEnv<'a> {
    values: &'a BTreeMap<String, Setting>,
    vars: &'a BTreeMap<String, String>,
}

impl IniEnv for StackEnv<'_> {
    fn var(&self, name: &[u8]) -> Option<Vec<u8>> {
        let n = std::str::from_utf8(name).ok()?;
        self.values
            .get(n)
            .map(|s| s.value.as_bytes().to_vec())
            .or_else(|| self.vars.get(n).map(|v| v.as_bytes().to_vec()))
    }
}

/// The scan dir's `.ini` files in PHP's order (`php_alphasort`: byte order of names).
pub fn scan_dir_order(mut names: Vec<PathBuf>) -> Vec<PathBuf> {
    names.retain(|p| p.extension().is_some_and(|e| e == "ini"));
    names.sort_by(|a, b| {
        a.file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .cmp(&b.file_name().map(|n| n.as_encoded_bytes().to_vec()))
    });
    names
}

impl PhpIni {
    /// An empty stack (every key at its default).
    pub fn new(sapi: Sapi) -> Self {
        PhpIni {
            sapi: Some(sapi),
            ..PhpIni::default()
        }
    }

    /// Read `php_ini` (if any) and then the `.ini` files of `scan_dir` (if any), in PHP's
    /// order, through `src`, adding each file to `files`. Unreadable files are skipped,
    /// as PHP skips them.
    pub fn load(
        sapi: Sapi,
        php_ini: Option<&Path>,
        scan_dir_files: &[PathBuf],
        src: &dyn FileSource,
        files: &mut Files,
        vars: &BTreeMap<String, String>,
    ) -> Self {
        let mut me = PhpIni::new(sapi);
        let mut paths: Vec<PathBuf> = php_ini.map(Path::to_path_buf).into_iter().collect();
        paths.extend(scan_dir_order(scan_dir_files.to_vec()));
        for p in paths {
            if let Ok(t) = src.read(&p) {
                let id = files.add(SourceFile::new(&p, t));
                me.add_file(id, files, vars);
            }
        }
        me
    }

    /// Apply one more file (already in `files`) on top of what was read.
    pub fn add_file(&mut self, id: FileId, files: &Files, vars: &BTreeMap<String, String>) {
        let text = &files.get(id).text;
        let tree = ini::parse_with(
            text,
            &ParseOptions {
                dialect: Dialect::PhpIni,
                env: &StackEnv {
                    values: &self.values,
                    vars,
                },
                earlier_keys: true,
            },
        );
        if let Some(e) = tree.errors.first() {
            self.errors.push((id, e.clone()));
        }
        let mut scope: Option<String> = None;
        for node in &tree.nodes {
            if node.dropped {
                break;
            }
            match &node.kind {
                NodeKind::Section(s) => {
                    let name = String::from_utf8_lossy(&s.name).into_owned();
                    let upper = name.to_ascii_uppercase();
                    if upper.starts_with("PATH") || upper.starts_with("HOST") {
                        scope = Some(name);
                    }
                }
                NodeKind::Entry(e) => {
                    let key = e.key_str();
                    let setting = Setting {
                        key: key.clone(),
                        value: e.value.text_str(),
                        layer: Layer::Ini,
                        file: Some(id),
                        key_range: e.key_range,
                        value_range: e.value.range,
                    };
                    if let Some(s) = &scope {
                        self.scoped.push((s.clone(), setting));
                    } else if key.eq_ignore_ascii_case("extension")
                        || key.eq_ignore_ascii_case("zend_extension")
                    {
                        self.extensions.push(setting);
                    } else if e.index.is_none() {
                        if e.value.uses_env {
                            self.unknown.insert(key.clone());
                        } else {
                            self.unknown.remove(&key);
                        }
                        self.values.insert(key, setting);
                    }
                }
                _ => {}
            }
        }
        self.trees.push((id, tree));
    }

    /// The effective value of `key` from the ini files, else PHP's default. For the CLI,
    /// the keys of [`CLI_FORCED`] always have the forced value.
    pub fn effective(&self, key: &str) -> Option<Setting> {
        if self.sapi == Some(Sapi::Cli) {
            if let Some((_, v)) = CLI_FORCED.iter().find(|(k, _)| *k == key) {
                return Some(Setting {
                    key: key.to_string(),
                    value: (*v).to_string(),
                    layer: Layer::Sapi,
                    file: None,
                    key_range: TextRange::default(),
                    value_range: TextRange::default(),
                });
            }
        }
        if self.unknown.contains(key) {
            return None;
        }
        if let Some(s) = self.values.get(key) {
            return Some(s.clone());
        }
        default_value(key, self.sapi.unwrap_or(Sapi::Fpm)).map(|v| Setting {
            key: key.to_string(),
            value: v.to_string(),
            layer: Layer::Default,
            file: None,
            key_range: TextRange::default(),
            value_range: TextRange::default(),
        })
    }

    /// Every key the files set, with its last setting (a `${VAR}` one included).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Setting)> {
        self.values.iter()
    }

    /// True when the last value of `key` takes a `${VAR}` from the server's environment.
    pub fn is_unknown(&self, key: &str) -> bool {
        self.unknown.contains(key)
    }

    /// The settings a pool's workers run with: this stack plus the pool's defines.
    pub fn for_pool<'a>(&'a self, pool: &'a Pool) -> PoolPhp<'a> {
        PoolPhp { ini: self, pool }
    }

    /// `memory_limit` as PHP ends up with it from the ini files alone.
    pub fn memory_limit(&self) -> EffectiveMemoryLimit {
        apply_memory_limit(self.effective("memory_limit"), None, None)
    }
}

/// A pool's view: its `php_admin_value`, else its `php_value`, else the ini stack.
#[derive(Clone, Copy, Debug)]
pub struct PoolPhp<'a> {
    /// The ini stack of the FPM SAPI.
    pub ini: &'a PhpIni,
    /// The pool.
    pub pool: &'a Pool,
}

fn define_setting(pool: &Pool, key: &str, admin: bool) -> Option<Setting> {
    pool.defines
        .iter()
        .find(|d| d.kind.is_admin() == admin && d.name == key)
        .map(|d| Setting {
            key: key.to_string(),
            value: d.value.clone(),
            layer: if d.kind.is_admin() {
                Layer::PoolAdmin
            } else {
                Layer::PoolValue
            },
            file: Some(d.origin.file),
            key_range: d.origin.key_range,
            value_range: d.origin.value_range,
        })
}

impl PoolPhp<'_> {
    /// The value the pool's workers run with, and where it was set.
    pub fn effective(&self, key: &str) -> Option<Setting> {
        define_setting(self.pool, key, true)
            .or_else(|| define_setting(self.pool, key, false))
            .or_else(|| self.ini.effective(key))
    }

    /// `memory_limit` after php.ini, then `php_value`, then `php_admin_value`, each
    /// refused (keeping the previous) when below PHP's 2 MiB floor.
    pub fn memory_limit(&self) -> EffectiveMemoryLimit {
        apply_memory_limit(
            self.ini.effective("memory_limit"),
            define_setting(self.pool, "memory_limit", false),
            define_setting(self.pool, "memory_limit", true),
        )
    }

    /// True when the key is locked by `php_admin_value`/`php_admin_flag`.
    pub fn is_admin(&self, key: &str) -> bool {
        self.pool.defines.iter().any(|d| {
            d.name == key && matches!(d.kind, DefineKind::PhpAdminValue | DefineKind::PhpAdminFlag)
        })
    }
}

/// The memory limit in force and the setting that put it there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveMemoryLimit {
    /// The limit.
    pub limit: MemoryLimit,
    /// The setting that gave it (None: PHP's built-in 128M).
    pub set_by: Option<Setting>,
    /// Settings PHP refused, with its warnings (e.g. `128MB`: 128 bytes, refused).
    pub refused: Vec<(Setting, Vec<String>)>,
    /// Warnings of the accepted setting (e.g. `1.5G` read as 1G).
    pub warnings: Vec<String>,
}

fn apply_memory_limit(
    ini: Option<Setting>,
    value: Option<Setting>,
    admin: Option<Setting>,
) -> EffectiveMemoryLimit {
    let mut eff = EffectiveMemoryLimit {
        limit: DEFAULT_MEMORY_LIMIT,
        set_by: None,
        refused: Vec::new(),
        warnings: Vec::new(),
    };
    for s in [ini, value, admin].into_iter().flatten() {
        let r = values::memory_limit(s.value.as_bytes(), eff.limit);
        if r.accepted {
            eff.limit = r.effective;
            eff.warnings = r.warnings;
            eff.set_by = (s.layer != Layer::Default).then_some(s);
        } else {
            eff.refused.push((s, r.warnings));
        }
    }
    eff
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fpm::{self, FpmOptions, MemorySource};

    #[test]
    fn stack_order_sections_and_pool_overrides() {
        let src = MemorySource::default()
            .with(
                "/etc/php/8.2/fpm/php.ini",
                "[PHP]\nmemory_limit = 256M\nmax_execution_time = 60\nextension=a\n",
            )
            .with("/etc/php/8.2/fpm/conf.d/20-b.ini", "memory_limit = 512M\nextension=b\n[PATH=/var/www]\nmax_execution_time = 5\n")
            .with("/etc/php/8.2/fpm/conf.d/10-a.ini", "memory_limit = 1G\npost_max_size = 128MB\n")
            .with("/etc/php/8.2/fpm/conf.d/x.txt", "memory_limit = 2G\n")
            .with(
                "/etc/pool.conf",
                "[www]\nuser=u\nlisten=/run/a.sock\npm=static\npm.max_children=3\nphp_value[memory_limit] = 1M\nphp_admin_value[max_execution_time] = 90\n",
            );
        let mut files = Files::new();
        let conf_d: Vec<PathBuf> = src
            .files
            .keys()
            .filter(|p| p.starts_with("/etc/php/8.2/fpm/conf.d"))
            .cloned()
            .collect();
        let ini = PhpIni::load(
            Sapi::Fpm,
            Some(Path::new("/etc/php/8.2/fpm/php.ini")),
            &conf_d,
            &src,
            &mut files,
            &BTreeMap::new(),
        );
        let m = ini.effective("memory_limit").unwrap();
        assert_eq!(m.value, "512M");
        assert_eq!(files.get(m.file.unwrap()).slice(m.value_range), b"512M");
        assert_eq!(ini.effective("max_execution_time").unwrap().value, "60");
        assert_eq!(ini.extensions.len(), 2);
        assert_eq!(ini.scoped.len(), 1);
        assert_eq!(
            ini.effective("upload_max_filesize").unwrap().layer,
            Layer::Default
        );
        let cfg = fpm::load(
            Path::new("/etc/pool.conf"),
            &src,
            &mut files,
            &FpmOptions::default(),
        )
        .unwrap();
        let pool = ini.for_pool(&cfg.pools[0]);
        // 1M is below PHP's floor: refused, the ini's 512M stays.
        let ml = pool.memory_limit();
        assert_eq!(ml.limit, MemoryLimit::Bytes(512 << 20));
        assert_eq!(ml.refused.len(), 1);
        let post = ini.effective("post_max_size").unwrap().quantity();
        assert_eq!(post.value.value, 128);
        assert!(post.value.warning.is_some());
        assert_eq!(
            files
                .get(ini.effective("post_max_size").unwrap().file.unwrap())
                .slice(post.range),
            b"128MB"
        );
        let met = pool.effective("max_execution_time").unwrap();
        assert_eq!(met.integer().value, 90);
        assert_eq!((met.value.as_str(), met.layer), ("90", Layer::PoolAdmin));
        assert!(pool.is_admin("max_execution_time"));
    }

    #[test]
    fn syntax_error_drops_the_rest() {
        let src = MemorySource::default().with(
            "/php.ini",
            "memory_limit = 256M\nurl = http://x/?y=1\nprecision = 5\n",
        );
        let mut files = Files::new();
        let ini = PhpIni::load(
            Sapi::Cli,
            Some(Path::new("/php.ini")),
            &[],
            &src,
            &mut files,
            &BTreeMap::new(),
        );
        assert_eq!(ini.effective("memory_limit").unwrap().value, "256M");
        assert!(ini.effective("precision").is_none());
        assert_eq!(ini.errors.len(), 1);
        assert_eq!(ini.effective("max_execution_time").unwrap().value, "0");
    }

    /// Effective values against `php -c FILE` (PHP's own start-up) for every php-ini file
    /// of the corpus.
    #[test]
    fn corpus_effective_values_match_php_startup() {
        let Some(php) = crate::syntax::ini::php_oracle::php_binary() else {
            return;
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let Ok(manifest) = std::fs::read_to_string(root.join("MANIFEST.tsv")) else {
            eprintln!("SKIP: corpus not found at {}", root.display());
            return;
        };
        let keys = [
            "memory_limit",
            "post_max_size",
            "upload_max_filesize",
            "max_input_time",
            "default_socket_timeout",
            "precision",
        ];
        let code = format!(
            "foreach ({:?} as $k) echo $k, \"\\t\", ini_get($k), \"\\n\";",
            keys
        )
        .replace("[", "array(")
        .replace("]", ")");
        let mut compared = 0;
        let mut bad = Vec::new();
        for line in manifest.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 2 || cols[1] != "php-ini" {
                continue;
            }
            let path = root.join(cols[0]);
            let out = std::process::Command::new("env")
                .args(["-i", "PATH=/usr/bin:/bin", "PHP_INI_SCAN_DIR="])
                .arg(&php)
                .arg("-c")
                .arg(&path)
                .args(["-r", &code])
                .output()
                .expect("php");
            if !out.status.success() {
                continue;
            }
            let theirs: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_once('\t'))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let src = crate::model::fpm::DiskSource;
            let mut files = Files::new();
            let ini = PhpIni::load(
                Sapi::Cli,
                Some(&path),
                &[],
                &src,
                &mut files,
                &BTreeMap::new(),
            );
            for k in keys {
                let ours = if k == "memory_limit" {
                    let m = ini.memory_limit();
                    m.set_by.map(|s| s.value).unwrap_or_else(|| "128M".into())
                } else {
                    ini.effective(k).map(|s| s.value).unwrap_or_default()
                };
                let t = theirs.get(k).cloned().unwrap_or_default();
                // Keys with no built-in default in our table: PHP shows its compiled default.
                if ini.effective(k).is_none() && !t.is_empty() {
                    continue;
                }
                compared += 1;
                if ours != t {
                    bad.push(format!("{}: {k}: php {t:?}, ours {ours:?}", cols[0]));
                }
            }
        }
        eprintln!(
            "php -c start-up: {compared} values compared, {} differ",
            bad.len()
        );
        assert!(compared > 300);
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}
