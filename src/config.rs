//! `gatelint.toml`: rule selection, severity overrides, rule thresholds and host facts.
//!
//! The file is found by walking up from each input (`gatelint.toml` or `.gatelint.toml`,
//! first hit wins) or named with `--config`. Unknown keys are errors that point at the key.

use crate::diagnostic::Severity;
use crate::source::{SourceFile, TextRange};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The names a configuration file may have, in the order they are looked for.
pub const CONFIG_NAMES: [&str; 2] = ["gatelint.toml", ".gatelint.toml"];

/// Facts about the machine the configuration runs on, which no config file states.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Memory available to PHP-FPM, in bytes.
    pub memory: Option<u64>,
    /// Number of CPUs.
    pub cpus: Option<u32>,
    /// The user nginx workers run as, when the nginx configuration does not say.
    pub nginx_user: Option<String>,
    /// True when the stack runs in containers (loopback is per container).
    pub container: Option<bool>,
    /// The user the PHP-FPM master runs as (`nobody` in images that drop root): pools
    /// need `user` only when it is root, the default.
    pub fpm_user: Option<String>,
}

/// The settings of one run: the config file merged with the command line.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file the settings came from, if any.
    pub path: Option<PathBuf>,
    /// Only these rules run (ids); `None` runs every rule.
    pub select: Option<Vec<String>>,
    /// These rules never run.
    pub ignore: Vec<String>,
    /// The lowest severity that makes the run exit 1.
    pub fail_on: Option<Severity>,
    /// Severity overrides by rule id.
    pub severity: BTreeMap<String, Severity>,
    /// Host facts.
    pub host: HostFacts,
    /// The nginx version the configuration targets (e.g. `1.22.1`).
    pub nginx_version: Option<String>,
    /// Extra nginx directive names (third-party modules) the user declares as known.
    pub nginx_extra_directives: Vec<String>,
    /// Rule options: `[rules.<id>]` tables, with the span of each key for error messages.
    pub rules: BTreeMap<String, RuleOptions>,
    /// The deployment profile (`profile = "debian-12"`; `"none"` for strict).
    pub profile: Option<String>,
}

/// The `[rules.<id>]` table of one rule.
#[derive(Clone, Debug, Default)]
pub struct RuleOptions {
    /// Where the rule's table name is.
    pub range: TextRange,
    /// Option name → (value, span of the key).
    pub values: BTreeMap<String, (toml::Value, TextRange)>,
}

/// A configuration error, with the place in the config file it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// The bytes the error is about (empty when unknown).
    pub range: TextRange,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// `path:line:col: message`, for the terminal.
    pub fn render(&self, text: &[u8]) -> String {
        let file = SourceFile::new(self.path.clone(), text.to_vec());
        let lc = file.line_col(self.range.start);
        format!(
            "{}:{}:{}: {}",
            self.path.display(),
            lc.line,
            lc.column,
            self.message
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    host: RawHost,
    #[serde(default)]
    nginx: RawNginx,
    #[serde(default)]
    rules: BTreeMap<String, Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    profile: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawHost {
    memory: Option<Spanned<toml::Value>>,
    cpus: Option<u32>,
    nginx_user: Option<String>,
    container: Option<bool>,
    fpm_user: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNginx {
    version: Option<String>,
    #[serde(default)]
    extra_directives: Vec<String>,
}

fn range_of(span: std::ops::Range<usize>) -> TextRange {
    TextRange::from_usize(span.start, span.end)
}

impl Config {
    /// Parse the text of a config file. Unknown keys, bad severities and bad sizes are errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let err = |range: TextRange, message: String| ConfigError {
            path: path.to_path_buf(),
            range,
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            err(
                e.span().map(range_of).unwrap_or_default(),
                e.message().trim().to_string(),
            )
        })?;
        let severity_of = |s: &Spanned<String>| {
            Severity::parse(s.get_ref()).ok_or_else(|| {
                err(
                    range_of(s.span()),
                    format!(
                        "invalid severity \"{}\", expected \"error\", \"warning\" or \"info\"",
                        s.get_ref()
                    ),
                )
            })
        };
        let fail_on = raw.fail_on.as_ref().map(severity_of).transpose()?;
        if let Some(p) = &raw.profile {
            let names = crate::profile::names();
            if !names.contains(&p.get_ref().as_str()) {
                return Err(err(
                    range_of(p.span()),
                    format!(
                        "unknown profile \"{}\", expected one of: {}",
                        p.get_ref(),
                        names.join(", ")
                    ),
                ));
            }
        }
        let mut severity = BTreeMap::new();
        for (id, s) in &raw.severity {
            severity.insert(id.clone(), severity_of(s)?);
        }
        let memory = match &raw.host.memory {
            None => None,
            Some(v) => {
                let parsed = match v.get_ref() {
                    toml::Value::Integer(n) if *n > 0 => Some(*n as u64),
                    toml::Value::String(s) => parse_size(s),
                    _ => None,
                };
                Some(parsed.ok_or_else(|| {
                    err(
                        range_of(v.span()),
                        "invalid memory size, expected bytes or a size such as \"8G\" or \"512M\""
                            .into(),
                    )
                })?)
            }
        };
        let rules = raw
            .rules
            .into_iter()
            .map(|(id, table)| {
                let range = range_of(table.span());
                let values = table
                    .into_inner()
                    .into_iter()
                    .map(|(k, v)| {
                        let r = range_of(v.span());
                        (k, (v.into_inner(), r))
                    })
                    .collect();
                (id, RuleOptions { range, values })
            })
            .collect();
        Ok(Config {
            path: Some(path.to_path_buf()),
            select: raw.select,
            ignore: raw.ignore,
            fail_on,
            severity,
            host: HostFacts {
                memory,
                cpus: raw.host.cpus,
                nginx_user: raw.host.nginx_user,
                container: raw.host.container,
                fpm_user: raw.host.fpm_user,
            },
            nginx_version: raw.nginx.version,
            profile: raw.profile.map(Spanned::into_inner),
            nginx_extra_directives: raw.nginx.extra_directives,
            rules,
        })
    }

    /// Read and parse a config file.
    pub fn load(path: &Path) -> Result<(Config, String), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            range: TextRange::default(),
            message: format!("cannot read config file: {e}"),
        })?;
        let config = Config::parse(path, &text)?;
        Ok((config, text))
    }

    /// Find the config file for `input` by walking up its ancestors (first hit wins).
    pub fn find_for(input: &Path) -> Option<PathBuf> {
        let start = if input.is_dir() {
            input.to_path_buf()
        } else {
            input.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let start = if start.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            start
        };
        let start = std::fs::canonicalize(&start).unwrap_or(start);
        for dir in start.ancestors() {
            for name in CONFIG_NAMES {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Some(candidate);
                }
            }
        }
        None
    }

    /// The value of option `key` of rule `rule`, if the user set it.
    pub fn rule_option(&self, rule: &str, key: &str) -> Option<&toml::Value> {
        self.rules.get(rule)?.values.get(key).map(|(v, _)| v)
    }

    /// True when `rule` runs under `select` and `ignore`.
    pub fn is_enabled(&self, rule: &str) -> bool {
        let selected = match &self.select {
            None => true,
            Some(list) => list.iter().any(|s| s == rule || s == "all"),
        };
        selected && !self.ignore.iter().any(|s| s == rule)
    }
}

/// Parse a size such as `512M`, `8G`, `8GiB`, `1024k` or `4096` (bytes), case-insensitive.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let unit = s[digits..].trim().to_ascii_lowercase();
    let mult: u64 = match unit.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("gatelint.toml"), text)
    }

    #[test]
    fn reads_every_section() {
        let c = parse(
            r#"
select = ["fpm-socket-path-mismatch"]
ignore = ["php-memory-limit-too-low"]
fail-on = "error"
[severity]
fpm-max-children-too-low = "info"
[host]
memory = "8G"
cpus = 4
nginx-user = "nginx"
[nginx]
version = "1.22.1"
extra-directives = ["more_set_headers"]
[rules.fastcgi-read-timeout-below-php-limit]
margin = "5s"
"#,
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Severity::Error));
        assert_eq!(c.severity["fpm-max-children-too-low"], Severity::Info);
        assert_eq!(c.host.memory, Some(8 << 30));
        assert_eq!(c.host.cpus, Some(4));
        assert_eq!(c.host.nginx_user.as_deref(), Some("nginx"));
        assert_eq!(c.nginx_version.as_deref(), Some("1.22.1"));
        assert!(c.is_enabled("fpm-socket-path-mismatch"));
        assert!(!c.is_enabled("php-memory-limit-too-low"));
        assert!(!c.is_enabled("fpm-max-children-too-low"));
        assert_eq!(
            c.rule_option("fastcgi-read-timeout-below-php-limit", "margin"),
            Some(&toml::Value::String("5s".into()))
        );
    }

    #[test]
    fn unknown_key_is_an_error_at_the_key() {
        let text = "select = []\n[host]\nmemroy = \"8G\"\n";
        let e = parse(text).unwrap_err();
        assert!(
            e.message.contains("unknown field `memroy`"),
            "{}",
            e.message
        );
        assert_eq!(
            e.render(text.as_bytes()),
            format!("gatelint.toml:3:1: {}", e.message)
        );
    }

    #[test]
    fn bad_severity_points_at_the_value() {
        let text = "[severity]\nfoo = \"fatal\"\n";
        let e = parse(text).unwrap_err();
        assert!(e.message.contains("invalid severity \"fatal\""));
        assert_eq!(&text[e.range.as_range()], "\"fatal\"");
    }

    #[test]
    fn bad_memory_is_refused() {
        let e = parse("[host]\nmemory = \"lots\"\n").unwrap_err();
        assert!(e.message.contains("invalid memory size"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999999999999G"), None);
    }

    #[test]
    fn finds_the_nearest_config_walking_up() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("etc/nginx/sites");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(dir.path().join("gatelint.toml"), "").unwrap();
        std::fs::write(dir.path().join("etc/.gatelint.toml"), "").unwrap();
        let found = Config::find_for(&deep.join("a.conf")).unwrap();
        assert!(found.ends_with("etc/.gatelint.toml"), "{}", found.display());
    }
}
