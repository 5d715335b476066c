//! SARIF 2.1.0, as GitHub code scanning reads it.
//!
//! Specification: <https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>; what
//! GitHub uses of it: <https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning>.
//! Columns count Unicode code points (`columnKind`), end columns point one past the range,
//! as in the specification.

use super::{Report, RuleMeta};
use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, LineIndex, TextRange};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    default_configuration: Configuration,
    help: Text,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation {
    id: usize,
    physical_location: PhysicalLocation,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

/// The SARIF level of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Print the report as one SARIF log with one run.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let diagnostics = report.sorted();
    // Every registered rule, then any rule id a diagnostic uses that is not registered
    // (so that every result has a ruleIndex).
    let mut rules: Vec<RuleMeta> = report.rules.to_vec();
    for d in &diagnostics {
        if report.rule(d.rule).is_none() && !rules.iter().any(|r| r.id == d.rule) {
            rules.push(RuleMeta {
                id: d.rule,
                summary: "",
                severity: d.severity,
                fix: None,
                kinds: &[],
                options: &[],
            });
        }
    }
    let mut prints = Fingerprints::default();
    let results = diagnostics
        .iter()
        .map(|d| {
            let fingerprint = prints.next(report, d.rule, d.file, d.range);
            result(report, &rules, d, fingerprint)
        })
        .collect();
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "gatelint",
                    information_uri: option_env!("CARGO_PKG_REPOSITORY").filter(|s| !s.is_empty()),
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules.iter().map(rule).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}

fn rule(r: &RuleMeta) -> Rule {
    let summary = if r.summary.is_empty() {
        r.id.to_string()
    } else {
        r.summary.to_string()
    };
    Rule {
        id: r.id.to_string(),
        name: r.id.to_string(),
        short_description: Text {
            text: summary.clone(),
        },
        default_configuration: Configuration {
            level: level(r.severity),
        },
        help: Text {
            text: format!(
                "{summary}\nRun `gatelint explain {}` for details and examples.",
                r.id
            ),
        },
    }
}

fn result(report: &Report, rules: &[RuleMeta], d: &Diagnostic, fingerprint: String) -> SarifResult {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    SarifResult {
        rule_id: d.rule,
        rule_index: rules.iter().position(|r| r.id == d.rule).unwrap_or(0),
        level: level(d.severity),
        message: Text { text: message },
        locations: vec![Location {
            physical_location: physical(report, d.file, d.range),
        }],
        related_locations: d
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| RelatedLocation {
                id: i + 1,
                physical_location: physical(report, r.file, r.range),
                message: Text {
                    text: r.message.clone(),
                },
            })
            .collect(),
        partial_fingerprints: BTreeMap::from([("gatelint/v1", fingerprint)]),
        fixes: d
            .fix
            .iter()
            .map(|f| {
                let mut by_file: BTreeMap<FileId, Vec<Replacement>> = BTreeMap::new();
                for e in &f.edits {
                    by_file.entry(e.file).or_default().push(Replacement {
                        deleted_region: region(report, e.file, e.range),
                        inserted_content: Text {
                            text: e.replacement.clone(),
                        },
                    });
                }
                SarifFix {
                    description: Text {
                        text: format!("{} ({})", f.message, f.applicability.as_str()),
                    },
                    artifact_changes: by_file
                        .into_iter()
                        .map(|(file, replacements)| ArtifactChange {
                            artifact_location: artifact(report, file),
                            replacements,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

fn physical(report: &Report, file: FileId, range: TextRange) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: artifact(report, file),
        region: region(report, file, range),
    }
}

fn region(report: &Report, file: FileId, range: TextRange) -> Region {
    let (start, end) = report.span(file, range);
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

fn artifact(report: &Report, file: FileId) -> ArtifactLocation {
    ArtifactLocation {
        uri: artifact_uri(&report.files.get(file).path),
    }
}

/// The line that holds the start of `range`, without surrounding whitespace and line end.
fn flagged_line<'t>(text: &'t [u8], index: &LineIndex, line: usize) -> &'t [u8] {
    let from = index.line_start(line) as usize;
    let to = if line + 1 < index.line_count() {
        index.line_start(line + 1) as usize
    } else {
        text.len()
    };
    text[from..to].trim_ascii()
}

/// Fingerprints of a run's results, each flagged line read and hashed once however many
/// findings it holds, so that a file of one long line costs no more than the same bytes
/// over many lines.
#[derive(Default)]
struct Fingerprints<'r> {
    /// The id of each flagged line already seen, by file and line number.
    lines: HashMap<(FileId, usize), usize>,
    /// The id of each distinct line text, by file: lines of equal text share one.
    texts: HashMap<(FileId, &'r [u8]), usize>,
    /// For each rule and line id: the hash state after the line, and how many findings
    /// have used it.
    seen: HashMap<(&'static str, usize), (Fnv, usize)>,
}

impl<'r> Fingerprints<'r> {
    fn next(
        &mut self,
        report: &'r Report,
        rule: &'static str,
        file: FileId,
        range: TextRange,
    ) -> String {
        let f = report.files.get(file);
        let start = range.start.min(f.text.len() as u32);
        let index = f.line_index();
        let number = index.line_of(start);
        let texts = &mut self.texts;
        let id = *self.lines.entry((file, number)).or_insert_with(|| {
            let fresh = texts.len();
            *texts
                .entry((file, flagged_line(&f.text, index, number)))
                .or_insert(fresh)
        });
        let (state, n) = self.seen.entry((rule, id)).or_insert_with(|| {
            let line = flagged_line(&f.text, index, number);
            (
                Fnv::new()
                    .with(rule.as_bytes())
                    .with(report.path(file).as_bytes())
                    .with(line),
                0,
            )
        });
        let print = state.finish(n.to_string().as_bytes());
        *n += 1;
        print
    }
}

/// 64-bit FNV-1a (<http://www.isthe.com/chongo/tech/comp/fnv/>) over fields, each but
/// the last followed by a NUL. Written here because its value must never change between
/// builds, which std's hashers do not promise.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn feed(self, bytes: &[u8]) -> Self {
        Fnv(bytes.iter().fold(self.0, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        }))
    }

    /// The hash after a field and its NUL.
    fn with(self, bytes: &[u8]) -> Self {
        self.feed(bytes).feed(&[0])
    }

    /// The hash after a last field, which (unlike the others) is not followed by a NUL.
    fn finish(self, last: &[u8]) -> String {
        format!("{:016x}", self.feed(last).0)
    }
}

/// A stable identity of a finding for GitHub code scanning, which uses it to follow an
/// alert across commits: a hash of the rule, the path, the trimmed text of the flagged
/// line and the finding's index among equal ones. Line numbers are left out on purpose,
/// so inserting lines above a finding keeps its identity.
pub fn partial_fingerprint(rule: &str, path: &str, line: &[u8], occurrence: usize) -> String {
    Fnv::new()
        .with(rule.as_bytes())
        .with(path.as_bytes())
        .with(line)
        .finish(occurrence.to_string().as_bytes())
}

/// The SARIF `uri` of a path: relative paths stay relative (without `./`), with forward
/// slashes; absolute ones become `file://` URIs; bytes outside the unreserved set of
/// RFC 3986 are percent-encoded.
fn artifact_uri(path: &Path) -> String {
    let raw: Cow<'_, [u8]> = Cow::Borrowed(path.as_os_str().as_encoded_bytes());
    #[cfg(windows)]
    let raw: Cow<'_, [u8]> = raw
        .iter()
        .map(|b| if *b == b'\\' { b'/' } else { *b })
        .collect();
    let mut p: &[u8] = &raw;
    while let Some(rest) = p.strip_prefix(b"./") {
        p = rest;
    }
    let mut uri = String::new();
    if path.is_absolute() {
        uri.push_str("file://");
        if !p.starts_with(b"/") {
            uri.push('/');
        }
    }
    for b in p {
        match *b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(*b as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_encoded_and_forward_slashed() {
        assert_eq!(
            artifact_uri(Path::new("./etc/nginx/my site.conf")),
            "etc/nginx/my%20site.conf"
        );
        assert_eq!(
            artifact_uri(Path::new("/etc/php/8.2/fpm/php.ini")),
            "file:///etc/php/8.2/fpm/php.ini"
        );
        assert_eq!(
            artifact_uri(Path::new("conf.d/ü#1%.ini")),
            "conf.d/%C3%BC%231%25.ini"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_ignore_line_numbers() {
        let a = partial_fingerprint("r", "a.conf", b"listen 80;", 0);
        assert_eq!(a, partial_fingerprint("r", "a.conf", b"listen 80;", 0));
        assert_ne!(a, partial_fingerprint("r", "a.conf", b"listen 80;", 1));
        assert_ne!(a, partial_fingerprint("s", "a.conf", b"listen 80;", 0));
        assert_ne!(a, partial_fingerprint("r", "b.conf", b"listen 80;", 0));
        // Pinned, computed independently (Python), so the value never drifts.
        assert_eq!(a, "674a915803cd7170");
    }
}
