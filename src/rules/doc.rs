//! Rule documentation: `rules/<id>.md`, with TOML front matter and fenced examples.
//!
//! A doc opens with front matter between `+++` lines (id, severity, kinds, summary), then
//! prose. Fenced code blocks whose info string carries `bad`, `good` or `fixed` are examples
//! the test suite runs. The info string is `KIND ROLE [example=NAME] [path=PATH]`: `KIND` is
//! `nginx`, `fpm` or `php-ini`; fences with the same `example` name form one multi-file
//! stack; `path` places the file in that stack; `fixed` gives the expected text of the file
//! with the same path after the rule's fix is applied.

use crate::source::FileKind;
use serde::Deserialize;

/// The front matter of a rule doc.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// The rule id.
    pub id: String,
    /// The default severity: `error`, `warning` or `info`.
    pub severity: String,
    /// The file kinds the rule reads.
    pub kinds: Vec<String>,
    /// One line saying what the rule finds.
    pub summary: String,
    /// The fix's applicability, when the rule offers one.
    #[serde(default)]
    pub fix: Option<String>,
}

/// What an example file stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Must raise the rule.
    Bad,
    /// Must not raise the rule.
    Good,
    /// The expected text after the fix.
    Fixed,
}

/// One fenced example file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleFile {
    /// What the file holds.
    pub kind: FileKind,
    /// Bad, good or fixed.
    pub role: Role,
    /// The example (stack) it belongs to.
    pub example: String,
    /// Where the file sits in the example stack.
    pub path: String,
    /// The file's text.
    pub text: String,
    /// 1-based line of the fence in the doc, for failure messages.
    pub line: usize,
}

/// A parsed rule doc.
#[derive(Clone, Debug)]
pub struct RuleDoc {
    /// The front matter.
    pub front: FrontMatter,
    /// The prose after the front matter.
    pub body: String,
    /// The examples, in order.
    pub examples: Vec<ExampleFile>,
}

/// Parse a rule doc; the error says what is wrong and where.
pub fn parse_doc(text: &str) -> Result<RuleDoc, String> {
    let rest = text
        .strip_prefix("+++\n")
        .ok_or("a rule doc must start with a `+++` line")?;
    let end = rest
        .find("\n+++\n")
        .ok_or("the front matter is not closed by a `+++` line")?;
    let front: FrontMatter =
        toml::from_str(&rest[..end]).map_err(|e| format!("front matter: {}", e.message()))?;
    let body = rest[end + 5..].to_string();
    let front_lines = text[..text.len() - body.len()].lines().count();
    let examples = parse_examples(&body, front_lines)?;
    Ok(RuleDoc {
        front,
        body,
        examples,
    })
}

fn parse_examples(body: &str, line_offset: usize) -> Result<Vec<ExampleFile>, String> {
    let mut out = Vec::new();
    let mut lines = body.lines().enumerate();
    let mut counter = 0usize;
    let mut last_bad: Option<String> = None;
    while let Some((i, line)) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut text = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        let words: Vec<&str> = info.split_whitespace().collect();
        let role = match words.get(1).copied() {
            Some("bad") => Role::Bad,
            Some("good") => Role::Good,
            Some("fixed") => Role::Fixed,
            _ => continue,
        };
        let line = line_offset + i + 1;
        let kind = match words[0] {
            "nginx" => FileKind::Nginx,
            "fpm" => FileKind::Fpm,
            "php-ini" | "ini" => FileKind::PhpIni,
            other => return Err(format!("line {line}: unknown example kind `{other}`")),
        };
        counter += 1;
        let mut example = None;
        let mut path = None;
        for w in &words[2..] {
            if let Some(v) = w.strip_prefix("example=") {
                example = Some(v.to_string());
            } else if let Some(v) = w.strip_prefix("path=") {
                path = Some(v.to_string());
            } else {
                return Err(format!("line {line}: unknown fence attribute `{w}`"));
            }
        }
        let path = path.unwrap_or_else(|| default_path(kind).to_string());
        // A `fixed` fence without a name belongs to the bad example just before it.
        let example = match (example, role) {
            (Some(e), _) => e,
            (None, Role::Fixed) => last_bad.clone().unwrap_or_else(|| format!("#{counter}")),
            (None, _) => format!("#{counter}"),
        };
        if role == Role::Bad {
            last_bad = Some(example.clone());
        }
        out.push(ExampleFile {
            kind,
            role,
            example,
            path,
            text,
            line,
        });
    }
    Ok(out)
}

/// Where a one-file example of each kind is placed.
fn default_path(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Nginx => "etc/nginx/nginx.conf",
        FileKind::Fpm => "etc/php/8.2/fpm/pool.d/www.conf",
        FileKind::PhpIni => "etc/php/8.2/fpm/php.ini",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_front_matter_and_examples() {
        let doc =
            "+++\nid = \"x\"\nseverity = \"error\"\nkinds = [\"nginx\"]\nsummary = \"s\"\n+++\n\
# x\n\n```nginx bad example=one path=etc/nginx/a.conf\nserver {}\n```\n\n\
```fpm bad example=one\n[www]\n```\n\n```nginx good\nevents {}\n```\n\n```sh\nls\n```\n";
        let d = parse_doc(doc).unwrap();
        assert_eq!(d.front.id, "x");
        assert_eq!(d.examples.len(), 3);
        assert_eq!(d.examples[0].example, "one");
        assert_eq!(d.examples[0].path, "etc/nginx/a.conf");
        assert_eq!(d.examples[0].text, "server {}\n");
        assert_eq!(d.examples[0].line, 9);
        assert_eq!(d.examples[1].example, "one");
        assert_eq!(d.examples[1].path, "etc/php/8.2/fpm/pool.d/www.conf");
        assert_eq!(d.examples[2].role, Role::Good);
        assert_ne!(d.examples[2].example, "one");
    }

    #[test]
    fn refuses_docs_without_front_matter_or_with_unknown_fields() {
        assert!(parse_doc("# no front matter\n").is_err());
        let e = parse_doc(
            "+++\nid = \"x\"\nseverity = \"error\"\nkinds = []\nsummary = \"s\"\ncolour = 1\n+++\n",
        )
        .unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
    }
}
