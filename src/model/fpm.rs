//! PHP-FPM's configuration as php-fpm 8.2 reads it: `[global]`, pools, `include=` globs,
//! `$pool`, `php_value`/`php_admin_value`, `env[…]` and `listen` targets, with the place
//! every value came from.
//!
//! Loading copies `sapi/fpm/fpm/fpm_conf.c`: files are read one line at a time, directive
//! names match case-insensitively, array names (`php_value`, `env`…) case-sensitively, a
//! section seen again reopens its pool, an included file continues the section that was
//! open where it was included, and relative include patterns resolve against the FPM
//! prefix (not the including file's folder). What FPM would refuse while loading is kept
//! in [`FpmConfig::load_errors`]; what it refuses afterwards is computed by
//! [`startup_refusals`].

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::values::{fpm_boolean, fpm_integer, fpm_time, FpmValueError, Spanned};
use crate::source::{FileId, Files, SourceFile, TextRange};
use crate::syntax::ini::{self, Dialect, IniEnv, IniTree, NodeKind, ParseOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod listen;
mod refusals;
mod source;

pub use listen::{normalize_unix_path, ListenAddr, TcpHost};
pub use refusals::{startup_refusals, startup_refusals_detailed, Refusal};
pub use source::{DiskSource, FileSource, GlobOutcome, MemorySource};

/// Rule id: `pm.start_servers` outside `[min_spare, max_spare]`.
pub const RULE_START_SERVERS: &str = "fpm-pm-start-servers-out-of-range";
/// Rule id: a spare count above `pm.max_children`.
pub const RULE_SPARE_EXCEEDS: &str = "fpm-pm-spare-exceeds-max-children";
/// Rule id: `pm`, `pm.max_children`, spare counts, `user`… missing or invalid.
pub const RULE_PM_REQUIRED: &str = "fpm-pm-required-values-invalid";
/// Rule id: slowlog timeout above the terminate timeout, or without `slowlog`.
pub const RULE_SLOWLOG: &str = "fpm-slowlog-timeout-exceeds-terminate";
/// Rule id: two pools on one listen address.
pub const RULE_DUP_LISTEN: &str = "fpm-duplicate-listen-address";
/// Rule id: no pool, no listen, unknown entry, `#` line, syntax error, bad include…
pub const RULE_STRUCTURE: &str = "fpm-pool-structure-invalid";

/// How to load an FPM configuration.
#[derive(Clone, Debug)]
pub struct FpmOptions {
    /// The FPM prefix relative `include=` patterns and relative paths resolve against
    /// (`-p`, else the compiled `PHP_PREFIX`: `/usr` in Debian's and Ubuntu's packages,
    /// `/usr/local` in the official Docker images).
    pub prefix: PathBuf,
    /// The master runs as root (a system service), so every pool needs `user`.
    pub master_is_root: bool,
    /// `${VAR}` values of the FPM master's environment; unknown ones read as "".
    pub env_vars: BTreeMap<String, String>,
    /// Read the root file as if it were included inside `[name]`: for a pool fragment
    /// without a section header, linted on its own.
    pub initial_pool: Option<String>,
}

impl Default for FpmOptions {
    fn default() -> Self {
        FpmOptions {
            prefix: PathBuf::from("/usr"),
            master_is_root: true,
            env_vars: BTreeMap::new(),
            initial_pool: None,
        }
    }
}

/// A place in a file: the directive's key and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: FileId,
    /// The key's bytes (`pm.max_children`, `php_value` in `php_value[x]`).
    pub key_range: TextRange,
    /// The value's bytes (empty, after `=`, for an empty value).
    pub value_range: TextRange,
    /// The whole line's node (for inserting after it or deleting it).
    pub line_range: TextRange,
}

/// One scalar directive as FPM keeps it (last one wins).
#[derive(Clone, Debug)]
pub struct Directive {
    /// The canonical (lower-case) name from FPM's option table.
    pub name: &'static str,
    /// The value after the ini layer and `$pool` expansion, as FPM stores it.
    pub value: String,
    /// Where it was set.
    pub origin: Origin,
    /// False when FPM refused the value while loading (kept so later checks know the
    /// directive was written, and do not report it as missing).
    pub valid: bool,
}

impl Directive {
    /// The value's bytes in its file, with `v`.
    fn spanned<T>(&self, v: T) -> Spanned<T> {
        Spanned {
            value: v,
            range: self.origin.value_range,
        }
    }

    /// The value as an FPM integer (`fpm_conf_set_integer`), with its span.
    pub fn integer(&self) -> Result<Spanned<i64>, FpmValueError> {
        fpm_integer(self.value.as_bytes()).map(|v| self.spanned(v))
    }

    /// The value as an FPM time in seconds (`fpm_conf_set_time`), with its span.
    pub fn seconds(&self) -> Result<Spanned<i64>, FpmValueError> {
        fpm_time(self.value.as_bytes()).map(|v| self.spanned(v))
    }

    /// The value as an FPM boolean (`fpm_conf_set_boolean`), with its span.
    pub fn boolean(&self) -> Result<Spanned<bool>, FpmValueError> {
        fpm_boolean(self.value.as_bytes()).map(|v| self.spanned(v))
    }
}

/// Which array a `php_*` define came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefineKind {
    /// `php_value[k]`.
    PhpValue,
    /// `php_flag[k]` (value normalised to "1"/"0").
    PhpFlag,
    /// `php_admin_value[k]`.
    PhpAdminValue,
    /// `php_admin_flag[k]` (value normalised to "1"/"0").
    PhpAdminFlag,
}

impl DefineKind {
    /// True for the admin forms, which PHP applies last and locks.
    pub fn is_admin(self) -> bool {
        matches!(self, DefineKind::PhpAdminValue | DefineKind::PhpAdminFlag)
    }
    /// The array name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            DefineKind::PhpValue => "php_value",
            DefineKind::PhpFlag => "php_flag",
            DefineKind::PhpAdminValue => "php_admin_value",
            DefineKind::PhpAdminFlag => "php_admin_flag",
        }
    }
}

/// One `php_value[name] = value` (or flag/admin form).
#[derive(Clone, Debug)]
pub struct PhpDefine {
    /// Which array.
    pub kind: DefineKind,
    /// The ini key (`memory_limit`).
    pub name: String,
    /// The value as FPM hands it to PHP.
    pub value: String,
    /// Where it was set.
    pub origin: Origin,
}

/// The process manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Pm {
    /// A fixed number of children.
    Static,
    /// Spare servers between min and max.
    Dynamic,
    /// Children forked on demand.
    Ondemand,
}

/// The `[global]` section.
#[derive(Clone, Debug, Default)]
pub struct Global {
    /// Scalar directives by canonical name.
    pub directives: BTreeMap<&'static str, Directive>,
}

/// One pool, merged over all its sections in every file.
#[derive(Clone, Debug)]
pub struct Pool {
    /// The name as first written (`[www]`); later `[WWW]` sections reopen it.
    pub name: String,
    /// Every section header of this pool: file and the `[…]` bytes.
    pub headers: Vec<(FileId, TextRange)>,
    /// Scalar directives by canonical name (the last occurrence wins).
    pub directives: BTreeMap<&'static str, Directive>,
    /// `php_value`/`php_flag`/`php_admin_value`/`php_admin_flag`, in file order.
    pub defines: Vec<PhpDefine>,
    /// `env[NAME] = value`, in file order.
    pub env: Vec<(String, Directive)>,
}

/// A problem found while loading (FPM prints it and, for errors, refuses to start).
#[derive(Clone, Debug)]
pub struct LoadProblem {
    /// Error (FPM stops) or warning (FPM goes on).
    pub severity: Severity,
    /// FPM's message, without the `[file:line]` prefix.
    pub message: String,
    /// Where.
    pub file: FileId,
    /// The offending bytes.
    pub range: TextRange,
}

/// A whole FPM configuration: every file read, the global section, the pools.
#[derive(Debug)]
pub struct FpmConfig {
    /// The file loading started from.
    pub root: FileId,
    /// Every file read, in reading order, with its tree.
    pub trees: Vec<(FileId, IniTree)>,
    /// The `[global]` section.
    pub global: Global,
    /// The pools in the order FPM creates them.
    pub pools: Vec<Pool>,
    /// Problems met while loading.
    pub load_errors: Vec<LoadProblem>,
    /// The options it was loaded with.
    pub options: FpmOptions,
}

/// The options FPM knows in `[global]` and how it reads each value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Time,
    Bool,
    LogLevel,
    Facility,
    RlimitCore,
    ProcessManager,
}

const GLOBAL_OPTIONS: &[(&str, Kind)] = &[
    ("pid", Kind::Str),
    ("error_log", Kind::Str),
    ("log_level", Kind::LogLevel),
    ("log_limit", Kind::Int),
    ("log_buffering", Kind::Bool),
    ("syslog.ident", Kind::Str),
    ("syslog.facility", Kind::Facility),
    ("emergency_restart_threshold", Kind::Int),
    ("emergency_restart_interval", Kind::Time),
    ("process_control_timeout", Kind::Time),
    ("process.max", Kind::Int),
    ("process.priority", Kind::Int),
    ("daemonize", Kind::Bool),
    ("rlimit_files", Kind::Int),
    ("rlimit_core", Kind::RlimitCore),
    ("events.mechanism", Kind::Str),
    ("systemd_interval", Kind::Time),
];

const POOL_OPTIONS: &[(&str, Kind)] = &[
    ("prefix", Kind::Str),
    ("user", Kind::Str),
    ("group", Kind::Str),
    ("listen", Kind::Str),
    ("listen.backlog", Kind::Int),
    ("listen.owner", Kind::Str),
    ("listen.group", Kind::Str),
    ("listen.mode", Kind::Str),
    ("listen.allowed_clients", Kind::Str),
    ("listen.acl_users", Kind::Str),
    ("listen.acl_groups", Kind::Str),
    ("process.priority", Kind::Int),
    ("process.dumpable", Kind::Bool),
    ("pm", Kind::ProcessManager),
    ("pm.max_children", Kind::Int),
    ("pm.start_servers", Kind::Int),
    ("pm.min_spare_servers", Kind::Int),
    ("pm.max_spare_servers", Kind::Int),
    ("pm.max_spawn_rate", Kind::Int),
    ("pm.process_idle_timeout", Kind::Time),
    ("pm.max_requests", Kind::Int),
    ("pm.status_path", Kind::Str),
    ("pm.status_listen", Kind::Str),
    ("ping.path", Kind::Str),
    ("ping.response", Kind::Str),
    ("access.log", Kind::Str),
    ("access.format", Kind::Str),
    ("slowlog", Kind::Str),
    ("request_slowlog_timeout", Kind::Time),
    ("request_slowlog_trace_depth", Kind::Int),
    ("request_terminate_timeout", Kind::Time),
    ("request_terminate_timeout_track_finished", Kind::Bool),
    ("rlimit_files", Kind::Int),
    ("rlimit_core", Kind::RlimitCore),
    ("chroot", Kind::Str),
    ("chdir", Kind::Str),
    ("catch_workers_output", Kind::Bool),
    ("decorate_workers_output", Kind::Bool),
    ("clear_env", Kind::Bool),
    ("security.limit_extensions", Kind::Str),
    ("apparmor_hat", Kind::Str),
];

const FACILITIES: &[&str] = &[
    "AUTH", "AUTHPRIV", "CRON", "DAEMON", "FTP", "KERN", "LPR", "MAIL", "NEWS", "SYSLOG", "USER",
    "UUCP", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7",
];

/// Check a value as FPM's parser for `kind` does; Err is FPM's reason.
fn check_value(kind: Kind, name: &str, v: &[u8]) -> Result<(), String> {
    match kind {
        Kind::Str => Ok(()),
        Kind::Int => fpm_integer(v).map(|_| ()).map_err(|e| e.0.to_string()),
        Kind::Time => fpm_time(v).map(|_| ()).map_err(|e| e.0.to_string()),
        Kind::Bool => fpm_boolean(v).map(|_| ()).map_err(|e| e.0.to_string()),
        Kind::LogLevel => {
            const L: [&str; 6] = ["alert", "error", "warning", "warn", "notice", "debug"];
            if L.iter().any(|l| l.as_bytes().eq_ignore_ascii_case(v)) {
                Ok(())
            } else {
                Err(format!("invalid value for '{name}'"))
            }
        }
        Kind::Facility => {
            if FACILITIES
                .iter()
                .any(|l| l.as_bytes().eq_ignore_ascii_case(v))
            {
                Ok(())
            } else {
                Err(format!("invalid value for '{name}'"))
            }
        }
        Kind::RlimitCore => {
            if v.eq_ignore_ascii_case(b"unlimited") {
                Ok(())
            } else {
                fpm_integer(v).map(|_| ()).map_err(|e| e.0.to_string())
            }
        }
        Kind::ProcessManager => {
            if parse_pm(v).is_some() {
                Ok(())
            } else {
                Err("invalid process manager (static, dynamic or ondemand)".into())
            }
        }
    }
}

/// `pm = static|dynamic|ondemand`, case-insensitive.
pub fn parse_pm(v: &[u8]) -> Option<Pm> {
    if v.eq_ignore_ascii_case(b"static") {
        Some(Pm::Static)
    } else if v.eq_ignore_ascii_case(b"dynamic") {
        Some(Pm::Dynamic)
    } else if v.eq_ignore_ascii_case(b"ondemand") {
        Some(Pm::Ondemand)
    } else {
        None
    }
}

/// Who may connect to a pool's unix socket, as FPM sets it up.
#[derive(Clone, Debug)]
pub struct SocketAccess<'a> {
    /// `listen.owner` (unset: the socket belongs to the master's user, root for a service).
    pub owner: Option<&'a Directive>,
    /// `listen.group` (unset: the master's group).
    pub group: Option<&'a Directive>,
    /// `listen.mode` as FPM reads it (default 0660).
    pub mode: u32,
    /// `listen.acl_users`; when ACLs are set, FPM ignores owner and group.
    pub acl_users: Option<&'a Directive>,
    /// `listen.acl_groups`.
    pub acl_groups: Option<&'a Directive>,
    /// `listen.allowed_clients` (TCP only).
    pub allowed_clients: Option<&'a Directive>,
    /// `listen.backlog` (default -1 on Linux: the kernel's `somaxconn`).
    pub backlog: i64,
}

impl Pool {
    /// The socket's ownership, mode, ACLs, allowed clients and backlog.
    pub fn socket_access(&self) -> SocketAccess<'_> {
        let set = |k: &str| self.get(k).filter(|d| !d.value.is_empty());
        SocketAccess {
            owner: set("listen.owner"),
            group: set("listen.group"),
            mode: self.listen_mode(),
            acl_users: set("listen.acl_users"),
            acl_groups: set("listen.acl_groups"),
            allowed_clients: set("listen.allowed_clients"),
            backlog: self.listen_backlog(),
        }
    }

    /// A directive by name (case-insensitive, as FPM matches them).
    pub fn get(&self, name: &str) -> Option<&Directive> {
        let lower = name.to_ascii_lowercase();
        self.directives.get(lower.as_str())
    }

    /// An integer directive as FPM reads it; None when absent or invalid.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|d| fpm_integer(d.value.as_bytes()).ok())
    }

    /// A time directive in seconds; None when absent or invalid.
    pub fn seconds(&self, name: &str) -> Option<i64> {
        self.get(name)
            .and_then(|d| fpm_time(d.value.as_bytes()).ok())
    }

    /// A boolean directive; None when absent or invalid.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.get(name)
            .and_then(|d| fpm_boolean(d.value.as_bytes()).ok())
    }

    /// The process manager, when set and valid.
    pub fn pm(&self) -> Option<Pm> {
        self.get("pm").and_then(|d| parse_pm(d.value.as_bytes()))
    }

    /// `request_terminate_timeout` in seconds (default 0: off).
    pub fn request_terminate_timeout(&self) -> i64 {
        self.seconds("request_terminate_timeout").unwrap_or(0)
    }

    /// `listen.backlog` (default -1 on Linux: the kernel's `somaxconn`).
    pub fn listen_backlog(&self) -> i64 {
        self.int("listen.backlog").unwrap_or(-1)
    }

    /// `listen.mode` as FPM reads it (`strtoul(…, 8)`), default 0660.
    pub fn listen_mode(&self) -> u32 {
        match self.get("listen.mode") {
            Some(d) => {
                let s = d.value.trim_start();
                let digits: String = s.chars().take_while(|c| ('0'..='7').contains(c)).collect();
                u32::from_str_radix(&digits, 8).unwrap_or(0)
            }
            None => 0o660,
        }
    }

    /// The listen address, parsed and normalised; None when `listen` is unset or empty.
    pub fn listen(&self, prefix: &Path) -> Option<ListenAddr> {
        let d = self.get("listen")?;
        if d.value.is_empty() {
            return None;
        }
        Some(ListenAddr::parse(
            &d.value,
            self.pool_prefix(prefix).as_deref(),
        ))
    }

    /// The pool's `prefix`, else the global prefix, for relative paths.
    fn pool_prefix(&self, prefix: &Path) -> Option<PathBuf> {
        match self.get("prefix") {
            Some(d) if !d.value.is_empty() => Some(PathBuf::from(&d.value)),
            _ => Some(prefix.to_path_buf()),
        }
    }

    /// The define PHP ends up using for ini key `name`: admin defines are applied after
    /// the others, and within each group the first occurrence in the files wins (FPM
    /// prepends to a list). None when the pool does not set it.
    pub fn effective_define(&self, name: &str) -> Option<&PhpDefine> {
        let first = |admin: bool| {
            self.defines
                .iter()
                .find(|d| d.kind.is_admin() == admin && d.name == name)
        };
        first(true).or_else(|| first(false))
    }
}

impl FpmConfig {
    /// A pool by name (case-insensitive, as FPM matches sections).
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The tree of a loaded file.
    pub fn tree(&self, file: FileId) -> Option<&IniTree> {
        self.trees.iter().find(|(f, _)| *f == file).map(|(_, t)| t)
    }

    /// True when loading met an error FPM stops at.
    pub fn has_load_errors(&self) -> bool {
        self.load_errors
            .iter()
            .any(|p| p.severity == Severity::Error)
    }
}

/// Load an FPM configuration from `path` (php-fpm.conf, or a lone pool file), reading
/// through `src` and adding every file read to `files`. Errs only when `path` itself
/// cannot be read; everything else FPM would complain about is in the result.
pub fn load(
    path: &Path,
    src: &dyn FileSource,
    files: &mut Files,
    options: &FpmOptions,
) -> std::io::Result<FpmConfig> {
    let text = src.read(path)?;
    let root = files.add(SourceFile::new(path, text));
    Ok(load_from(root, src, files, options))
}

/// Load with a root file already in `files` (e.g. read from stdin); its includes are
/// read through `src`.
pub fn load_from(
    root: FileId,
    src: &dyn FileSource,
    files: &mut Files,
    options: &FpmOptions,
) -> FpmConfig {
    let mut l = Loader {
        src,
        files,
        cfg: FpmConfig {
            root,
            trees: Vec::new(),
            global: Global::default(),
            pools: Vec::new(),
            load_errors: Vec::new(),
            options: options.clone(),
        },
        current: None,
        depth: 0,
        env: EnvVars(&options.env_vars),
    };
    l.start(root);
    l.cfg
}

struct EnvVars<'a>(&'a BTreeMap<String, String>);

impl IniEnv for EnvVars<'_> {
    fn var(&self, name: &[u8]) -> Option<Vec<u8>> {
        let n = std::str::from_utf8(name).ok()?;
        self.0.get(n).map(|v| v.as_bytes().to_vec())
    }
}

struct Loader<'a> {
    src: &'a dyn FileSource,
    files: &'a mut Files,
    cfg: FpmConfig,
    /// The pool whose section is open; None in `[global]`.
    current: Option<usize>,
    depth: u32,
    env: EnvVars<'a>,
}

impl Loader<'_> {
    fn problem(&mut self, sev: Severity, file: FileId, range: TextRange, msg: String) {
        self.cfg.load_errors.push(LoadProblem {
            severity: sev,
            message: msg,
            file,
            range,
        });
    }

    fn start(&mut self, root: FileId) {
        if let Some(name) = self.cfg.options.initial_pool.clone() {
            self.cfg.pools.push(Pool {
                name,
                headers: Vec::new(),
                directives: BTreeMap::new(),
                defines: Vec::new(),
                env: Vec::new(),
            });
            self.current = Some(0);
        }
        self.load_file(root);
    }

    fn load_file(&mut self, file: FileId) {
        let text = self.files.get(file).text.clone();
        let tree = ini::parse_with(
            &text,
            &ParseOptions {
                dialect: Dialect::Fpm,
                env: &self.env,
                earlier_keys: false,
            },
        );
        let name = self.files.get(file).display_path();
        for e in &tree.errors {
            self.problem(
                Severity::Error,
                file,
                e.error.range,
                format!(
                    "{}; failed to load configuration file '{name}'",
                    e.error.message
                ),
            );
        }
        let nodes = tree.nodes.clone();
        self.cfg.trees.push((file, tree));
        for node in &nodes {
            match &node.kind {
                NodeKind::Section(s) => {
                    let name = String::from_utf8_lossy(&s.name).into_owned();
                    if name.eq_ignore_ascii_case("global") {
                        self.current = None;
                    } else if let Some(i) = self
                        .cfg
                        .pools
                        .iter()
                        .position(|p| p.name.eq_ignore_ascii_case(&name))
                    {
                        self.cfg.pools[i].headers.push((file, s.header_range));
                        self.current = Some(i);
                    } else {
                        self.cfg.pools.push(Pool {
                            name,
                            headers: vec![(file, s.header_range)],
                            directives: BTreeMap::new(),
                            defines: Vec::new(),
                            env: Vec::new(),
                        });
                        self.current = Some(self.cfg.pools.len() - 1);
                    }
                }
                NodeKind::BareLabel(b) => {
                    self.problem(
                        Severity::Error,
                        file,
                        b.range,
                        "value is NULL for a ZEND_INI_PARSER_ENTRY".into(),
                    );
                }
                NodeKind::Entry(e) => {
                    let origin = Origin {
                        file,
                        key_range: e.key_range,
                        value_range: e.value.range,
                        line_range: node.range,
                    };
                    match &e.index {
                        None => self.entry(&e.key, &e.value.text, origin),
                        Some(ix) => self.array(&e.key, &ix.name, &e.value.text, origin),
                    }
                }
                _ => {}
            }
        }
    }

    fn expand_pool(&self, v: &str) -> Result<String, &'static str> {
        if !v.contains("$pool") {
            return Ok(v.to_string());
        }
        match self.current {
            Some(i) => Ok(v.replace("$pool", &self.cfg.pools[i].name)),
            None => Err("Can't use '$pool' when the pool is not defined"),
        }
    }

    fn entry(&mut self, key: &[u8], value: &[u8], origin: Origin) {
        let key_s = String::from_utf8_lossy(key).into_owned();
        if key == b"include" {
            self.include(value, origin);
            return;
        }
        let table = if self.current.is_some() {
            POOL_OPTIONS
        } else {
            GLOBAL_OPTIONS
        };
        let Some(&(name, kind)) = table
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(key))
        else {
            self.problem(
                Severity::Error,
                origin.file,
                origin.key_range,
                format!("unknown entry '{key_s}'"),
            );
            return;
        };
        let raw = String::from_utf8_lossy(value).into_owned();
        let checked = check_value(kind, name, value).and_then(|()| {
            if kind == Kind::Str {
                self.expand_pool(&raw).map_err(str::to_string)
            } else {
                Ok(raw.clone())
            }
        });
        let valid = checked.is_ok();
        let d = Directive {
            name,
            value: checked.clone().unwrap_or(raw),
            origin,
            valid,
        };
        match self.current {
            Some(i) => {
                self.cfg.pools[i].directives.insert(name, d);
            }
            None => {
                self.cfg.global.directives.insert(name, d);
            }
        }
        match checked {
            Ok(_) => {}
            Err(reason) => {
                let range = if origin.value_range.is_empty() {
                    origin.key_range
                } else {
                    origin.value_range
                };
                self.problem(
                    Severity::Error,
                    origin.file,
                    range,
                    format!("unable to parse value for entry '{name}': {reason}"),
                );
            }
        }
    }

    fn array(&mut self, name: &[u8], key: &[u8], value: &[u8], origin: Origin) {
        let name_s = String::from_utf8_lossy(name).into_owned();
        let key_s = String::from_utf8_lossy(key).into_owned();
        let Some(i) = self.current else {
            self.problem(
                Severity::Error,
                origin.file,
                origin.key_range,
                "Array are not allowed in the global section".into(),
            );
            return;
        };
        let kind = match name {
            b"php_value" => Some(DefineKind::PhpValue),
            b"php_flag" => Some(DefineKind::PhpFlag),
            b"php_admin_value" => Some(DefineKind::PhpAdminValue),
            b"php_admin_flag" => Some(DefineKind::PhpAdminFlag),
            b"env" | b"access.suppress_path" => None,
            _ => {
                self.problem(
                    Severity::Error,
                    origin.file,
                    origin.key_range,
                    format!("unknown directive '{name_s}'"),
                );
                return;
            }
        };
        if name == b"access.suppress_path" {
            // Keys must be empty and values start with '/'; kept out of the model.
            if !key.is_empty() || !value.starts_with(b"/") {
                self.problem(
                    Severity::Error,
                    origin.file,
                    origin.value_range,
                    format!("error while parsing '{name_s}[{key_s}]' : invalid value"),
                );
            }
            return;
        }
        if key.is_empty() {
            self.problem(
                Severity::Error,
                origin.file,
                origin.key_range,
                format!("You must provide a key for field '{name_s}'"),
            );
            return;
        }
        let raw = String::from_utf8_lossy(value).into_owned();
        let v = match self.expand_pool(&raw) {
            Ok(v) => v,
            Err(e) => {
                self.problem(Severity::Error, origin.file, origin.value_range, e.into());
                return;
            }
        };
        match kind {
            None => {
                if v.is_empty() {
                    self.problem(
                        Severity::Error,
                        origin.file,
                        origin.value_range,
                        format!("error while parsing '{name_s}[{key_s}]' : empty value"),
                    );
                    return;
                }
                let d = Directive {
                    name: "env",
                    value: v,
                    origin,
                    valid: true,
                };
                self.cfg.pools[i].env.push((key_s, d));
            }
            Some(k) => {
                let v = if matches!(k, DefineKind::PhpFlag | DefineKind::PhpAdminFlag) {
                    match fpm_boolean(v.as_bytes()) {
                        Ok(b) => if b { "1" } else { "0" }.to_string(),
                        Err(e) => {
                            self.problem(
                                Severity::Error,
                                origin.file,
                                origin.value_range,
                                format!("error while parsing '{name_s}[{key_s}]' : {}", e.0),
                            );
                            return;
                        }
                    }
                } else {
                    v
                };
                self.cfg.pools[i].defines.push(PhpDefine {
                    kind: k,
                    name: key_s,
                    value: v,
                    origin,
                });
            }
        }
    }

    fn include(&mut self, value: &[u8], origin: Origin) {
        let pattern = String::from_utf8_lossy(value).into_owned();
        let full = if pattern.starts_with('/') {
            pattern.clone()
        } else {
            format!(
                "{}/{}",
                self.cfg
                    .options
                    .prefix
                    .display()
                    .to_string()
                    .trim_end_matches('/'),
                pattern
            )
        };
        let from = self.files.get(origin.file).display_path();
        let line = self
            .files
            .get(origin.file)
            .line_col(origin.key_range.start)
            .line;
        match self.src.glob(&full) {
            GlobOutcome::NoMatch => self.problem(
                Severity::Warning,
                origin.file,
                origin.value_range,
                format!("Nothing matches the include pattern '{full}' from {from} at line {line}."),
            ),
            GlobOutcome::Aborted => self.problem(
                Severity::Error,
                origin.file,
                origin.value_range,
                format!("Unable to globalize '{full}' (ret=2) from {from} at line {line}."),
            ),
            GlobOutcome::Matches(paths) => {
                for p in paths {
                    if self.depth >= 5 {
                        self.problem(
                            Severity::Error,
                            origin.file,
                            origin.value_range,
                            "failed to include more than 5 files recursively".into(),
                        );
                        return;
                    }
                    let id = match self.files.find(&p) {
                        Some(id) if self.cfg.trees.iter().any(|(f, _)| *f == id) => {
                            // Read again, as FPM does; the store keeps one copy.
                            id
                        }
                        _ => match self.src.read(&p) {
                            Ok(t) => self.files.add(SourceFile::new(&p, t)),
                            Err(e) => {
                                self.problem(
                                    Severity::Error,
                                    origin.file,
                                    origin.value_range,
                                    format!(
                                        "failed to open configuration file '{}': {e}",
                                        p.display()
                                    ),
                                );
                                continue;
                            }
                        },
                    };
                    self.depth += 1;
                    self.load_file(id);
                    self.depth -= 1;
                }
            }
        }
    }
}

/// A fix that replaces only a value's bytes.
fn value_fix(origin: &Origin, new: String, message: String) -> Fix {
    Fix::new(
        message,
        Applicability::Unsafe,
        vec![Edit::replace(origin.file, origin.value_range, new)],
    )
}

/// Build an error diagnostic.
fn refusal(rule: &'static str, file: FileId, range: TextRange, msg: String) -> Diagnostic {
    Diagnostic::new(rule, Severity::Error, file, range, msg)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod differential;
