//! Suppression comments: `# gatelint: ignore[rule-id, …]` (`;` in ini files) on the line
//! before a directive, or trailing on it, covers that directive and its block;
//! `# gatelint: ignore-file[rule-id, …]` covers the whole file.
//!
//! The parsers supply where the comments and the directives (items) are, so a comment-like
//! text inside a quoted value is never taken for a suppression.

use crate::source::{FileId, TextRange};

/// What a suppression covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole file.
    File,
    /// The bytes of one directive (with its block) and of the comment itself.
    Range(TextRange),
}

/// One rule id named in a suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuppressedRule {
    /// The id as written.
    pub id: String,
    /// Where the id is written.
    pub range: TextRange,
}

/// One suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The file it is in.
    pub file: FileId,
    /// The comment's bytes.
    pub comment: TextRange,
    /// The rules it names.
    pub rules: Vec<SuppressedRule>,
    /// What it covers.
    pub scope: Scope,
}

impl Suppression {
    /// True when this suppression covers a finding of `rule` at `range` in `file`.
    pub fn covers(&self, file: FileId, range: TextRange, rule: &str) -> bool {
        if file != self.file || !self.rules.iter().any(|r| r.id == rule || r.id == "all") {
            return false;
        }
        match self.scope {
            Scope::File => true,
            Scope::Range(r) => r.start <= range.start && range.start < r.end.max(r.start + 1),
        }
    }
}

/// The marker that starts a suppression inside a comment.
const MARKER: &str = "gatelint:";

/// True when a comment (with its `#` or `;`) is a suppression, well formed or not: the
/// cheap test that lets a loader skip files without any.
pub fn is_marked(comment: &[u8]) -> bool {
    marker_at(comment).is_some()
}

/// Where the marker starts in a comment (after its comment characters and blanks), when
/// the comment is a suppression.
fn marker_at(comment: &[u8]) -> Option<usize> {
    let skip = comment
        .iter()
        .position(|b| !matches!(b, b'#' | b';' | b' ' | b'\t'))
        .unwrap_or(comment.len());
    comment[skip..]
        .starts_with(MARKER.as_bytes())
        .then_some(skip)
}

/// Find the suppressions of one file. `comments` are the comment ranges (including the `#`
/// or `;`), `items` the ranges of every directive or entry (nested ones too, any order).
/// Malformed suppression comments are returned as `(range, message)` errors.
pub fn find_suppressions(
    file: FileId,
    text: &[u8],
    comments: &[TextRange],
    items: &[TextRange],
) -> (Vec<Suppression>, Vec<(TextRange, String)>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for &comment in comments {
        let body = &text[comment.as_range()];
        let Some(skip) = marker_at(body) else {
            continue;
        };
        let rest = &body[skip..];
        let base = comment.start + skip as u32 + MARKER.len() as u32;
        let rest = &rest[MARKER.len()..];
        let lead = rest.iter().take_while(|b| **b == b' ').count();
        let directive = &rest[lead..];
        let (file_wide, after) = if let Some(a) = directive.strip_prefix(b"ignore-file[") {
            (true, a)
        } else if let Some(a) = directive.strip_prefix(b"ignore[") {
            (false, a)
        } else {
            errors.push((
                comment,
                "malformed suppression: expected `gatelint: ignore[rule-id]` or `gatelint: ignore-file[rule-id]`"
                    .to_string(),
            ));
            continue;
        };
        let Some(close) = after.iter().position(|b| *b == b']') else {
            errors.push((comment, "malformed suppression: missing `]`".to_string()));
            continue;
        };
        let list_start = base
            + lead as u32
            + if file_wide {
                "ignore-file[".len()
            } else {
                "ignore[".len()
            } as u32;
        let mut rules = Vec::new();
        let mut offset = 0usize;
        for part in after[..close].split(|b| *b == b',') {
            let trimmed_start = part.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let id = String::from_utf8_lossy(part).trim().to_string();
            if !id.is_empty() {
                let start = list_start + (offset + trimmed_start) as u32;
                rules.push(SuppressedRule {
                    range: TextRange::new(start, start + id.len() as u32),
                    id,
                });
            }
            offset += part.len() + 1;
        }
        if rules.is_empty() {
            errors.push((comment, "suppression names no rule".to_string()));
            continue;
        }
        let scope = if file_wide {
            Scope::File
        } else {
            Scope::Range(covered_range(text, comment, items))
        };
        found.push(Suppression {
            file,
            comment,
            rules,
            scope,
        });
    }
    (found, errors)
}

/// A trailing comment covers the outermost item that starts on its line; a comment on a
/// line of its own covers the next item that starts after it.
fn covered_range(text: &[u8], comment: TextRange, items: &[TextRange]) -> TextRange {
    let line_start = text[..comment.start as usize]
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|p| p as u32 + 1)
        .unwrap_or(0);
    let trailing = text[line_start as usize..comment.start as usize]
        .iter()
        .any(|b| !b.is_ascii_whitespace());
    let pick = if trailing {
        items
            .iter()
            .filter(|r| r.start >= line_start && r.start < comment.start)
            .max_by_key(|r| (r.len(), std::cmp::Reverse(r.start)))
            .or_else(|| {
                items
                    .iter()
                    .filter(|r| r.start <= comment.start && comment.start <= r.end)
                    .min_by_key(|r| r.len())
            })
    } else {
        let next = items
            .iter()
            .filter(|r| r.start >= comment.end)
            .map(|r| r.start)
            .min();
        next.and_then(|start| {
            items
                .iter()
                .filter(|r| r.start == start)
                .max_by_key(|r| r.len())
        })
    };
    match pick {
        Some(r) => r.cover(comment),
        None => comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_comments_are_told_apart_cheaply() {
        assert!(is_marked(b"# gatelint: ignore[x]"));
        assert!(is_marked(b";\tgatelint: nope"));
        assert!(is_marked(b"#gatelint:"));
        assert!(!is_marked(b"# plain comment about gatelint:"));
        assert!(!is_marked(b"# gatelint ignore[x]"));
        assert!(!is_marked(b"#"));
    }

    fn find(text: &str, comments: &[(usize, usize)], items: &[(usize, usize)]) -> Vec<Suppression> {
        let c: Vec<_> = comments
            .iter()
            .map(|&(a, b)| TextRange::from_usize(a, b))
            .collect();
        let i: Vec<_> = items
            .iter()
            .map(|&(a, b)| TextRange::from_usize(a, b))
            .collect();
        let (s, e) = find_suppressions(FileId(0), text.as_bytes(), &c, &i);
        assert!(e.is_empty(), "{e:?}");
        s
    }

    fn span_of(text: &str, needle: &str) -> (usize, usize) {
        let s = text.find(needle).unwrap();
        (s, s + needle.len())
    }

    #[test]
    fn a_comment_before_a_block_covers_the_block() {
        let text = "# gatelint: ignore[a, b]\nserver {\n    listen 80;\n}\nlisten 81;\n";
        let block = (text.find("server").unwrap(), text.find("}\n").unwrap() + 1);
        let inner = span_of(text, "listen 80;");
        let after = span_of(text, "listen 81;");
        let s = find(
            text,
            &[span_of(text, "# gatelint: ignore[a, b]")],
            &[block, inner, after],
        );
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(&text[s[0].rules[1].range.as_range()], "b");
        let at = |n: (usize, usize)| TextRange::from_usize(n.0, n.1);
        assert!(s[0].covers(FileId(0), at(inner), "a"));
        assert!(s[0].covers(FileId(0), at(inner), "b"));
        assert!(!s[0].covers(FileId(0), at(inner), "c"));
        assert!(!s[0].covers(FileId(0), at(after), "a"));
        assert!(!s[0].covers(FileId(1), at(inner), "a"));
    }

    #[test]
    fn a_trailing_comment_covers_its_line_directive() {
        let text = "pm.max_children = 0 ; gatelint: ignore[x]\npm = static\n";
        let first = span_of(text, "pm.max_children = 0");
        let second = span_of(text, "pm = static");
        let s = find(
            text,
            &[span_of(text, "; gatelint: ignore[x]")],
            &[first, second],
        );
        assert!(s[0].covers(FileId(0), TextRange::from_usize(first.0, first.1), "x"));
        assert!(!s[0].covers(FileId(0), TextRange::from_usize(second.0, second.1), "x"));
    }

    #[test]
    fn file_wide_and_malformed() {
        let text = "# gatelint: ignore-file[x]\n# gatelint: nope\n# plain comment\n";
        let c = [
            TextRange::from_usize(0, 26),
            TextRange::from_usize(27, 43),
            TextRange::from_usize(44, 59),
        ];
        let (s, e) = find_suppressions(FileId(3), text.as_bytes(), &c, &[]);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].scope, Scope::File);
        assert!(s[0].covers(FileId(3), TextRange::new(500, 501), "x"));
        assert_eq!(e.len(), 1);
        assert!(e[0].1.contains("malformed"));
    }
}
