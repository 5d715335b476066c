//! `gatelint rules` and `gatelint explain RULE`.

use super::{EXIT_FAILURE, EXIT_OK};
use crate::rules::{self, doc};
use std::io::Write;

/// Output formats of `gatelint rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RulesFormat {
    /// One line per rule.
    Text,
    /// A JSON array of rule metadata.
    Json,
}

#[derive(serde::Serialize)]
struct RuleJson<'a> {
    id: &'a str,
    severity: &'a str,
    kinds: Vec<&'a str>,
    summary: &'a str,
    fix: Option<&'a str>,
    options: Vec<OptionJson<'a>>,
}

#[derive(serde::Serialize)]
struct OptionJson<'a> {
    name: &'a str,
    default: &'a str,
    doc: &'a str,
}

/// List every rule.
pub fn list(format: RulesFormat, out: &mut dyn Write) -> i32 {
    let registry = rules::registry();
    let result = match format {
        RulesFormat::Text => registry.iter().try_for_each(|r| {
            let m = r.meta();
            writeln!(out, "{:<48} {:<8} {}", m.id, m.severity.as_str(), m.summary)
        }),
        RulesFormat::Json => {
            let list: Vec<RuleJson> = registry
                .iter()
                .map(|r| {
                    let m = r.meta();
                    RuleJson {
                        id: m.id,
                        severity: m.severity.as_str(),
                        kinds: m.kinds.iter().map(|k| k.as_str()).collect(),
                        summary: m.summary,
                        fix: m.fix.map(|a| a.as_str()),
                        options: m
                            .options
                            .iter()
                            .map(|o| OptionJson {
                                name: o.name,
                                default: o.default,
                                doc: o.doc,
                            })
                            .collect(),
                    }
                })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &list)
                .map_err(std::io::Error::other)
                .and_then(|_| writeln!(out))
        }
    };
    if result.is_err() {
        return EXIT_FAILURE;
    }
    EXIT_OK
}

/// Print a rule's documentation (without its front matter).
pub fn explain(id: &str, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(text) = rules::doc_of(id) else {
        let _ = writeln!(err, "error: unknown rule `{id}`");
        if let Some(near) = closest_rule(id) {
            let _ = writeln!(err, "  help: did you mean `{near}`?");
        }
        let _ = writeln!(err, "  help: `gatelint rules` lists every rule");
        return EXIT_FAILURE;
    };
    let body = doc::parse_doc(text)
        .map(|d| d.body)
        .unwrap_or_else(|_| text.to_string());
    if out.write_all(body.trim_start().as_bytes()).is_err() {
        return EXIT_FAILURE;
    }
    EXIT_OK
}

/// The registered rule id nearest to `id` by edit distance, when it is near enough.
pub fn closest_rule(id: &str) -> Option<&'static str> {
    rules::registry()
        .iter()
        .map(|r| r.meta().id)
        .map(|cand| (edit_distance(id, cand), cand))
        .filter(|(d, cand)| *d <= cand.len() / 3 + 1)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
