//! PHP's ini grammar (Zend's scanner and parser), shared by php.ini and PHP-FPM files.
//!
//! [`parse`] turns any bytes into an [`IniTree`] whose nodes partition the input: joining
//! the bytes of every node gives the file back byte for byte (CRLF, BOM, comments and
//! non-UTF-8 bytes included). Entries carry byte spans of their key, `[index]` and value,
//! and the value as PHP evaluates it (`INI_SCANNER_NORMAL`: quotes, `${…}`, constants,
//! `| & ^ ~ !` expressions, booleans).
//!
//! The two dialects read the same grammar differently, as the real programs do:
//! - php.ini is one scan of the whole file; at the first syntax error PHP stops, so every
//!   node after it is marked [`Node::dropped`];
//! - FPM feeds its files to the scanner one line at a time (`fpm_conf_load_ini_file`), so a
//!   quote cannot span lines and an error stays on its line.

mod eval;
mod lexer;
mod parser;

pub use eval::{builtin_constant, c_atoi, IniEnv, MapEnv, NoEnv};

use crate::diagnostic::SyntaxError;
use crate::source::TextRange;

/// Which program reads the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// php.ini, a conf.d file or `.user.ini`: one scan, stops at the first error.
    PhpIni,
    /// php-fpm.conf or a pool file: one scan per line.
    Fpm,
}

/// Options for [`parse_with`].
pub struct ParseOptions<'a> {
    /// Which program reads the file.
    pub dialect: Dialect,
    /// Variables and constants.
    pub env: &'a dyn IniEnv,
    /// Let `${name}` see the keys read earlier in this file (php.ini at start-up does; the
    /// configuration hash it consults is the one being filled).
    pub earlier_keys: bool,
}

/// A parsed file: nodes that partition its bytes, and its syntax errors.
#[derive(Clone, Debug)]
pub struct IniTree {
    /// The dialect it was read as.
    pub dialect: Dialect,
    /// Length of the input in bytes.
    pub len: u32,
    /// Consecutive nodes covering every byte of the input, in order.
    pub nodes: Vec<Node>,
    /// Syntax errors, worded as PHP words them.
    pub errors: Vec<IniSyntaxError>,
    /// Where Zend's scanner silently stopped reading (an unterminated `'`, a final `;`
    /// comment without newline…); what follows is never read. For FPM, per line.
    pub truncations: Vec<TextRange>,
}

/// A syntax error with PHP's own line counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IniSyntaxError {
    /// The range of the offending token and PHP's message (`syntax error, unexpected '='`).
    pub error: SyntaxError,
    /// The line number PHP prints in `… on line N` (PHP's counter can run ahead of the
    /// real line, e.g. after `[section] ; comment`). For FPM: the line within its
    /// one-line scan, as FPM prints it (`in Unknown on line 1`).
    pub php_line: u32,
    /// Where the text PHP ignores because of this error starts: for php.ini, everything
    /// from this offset to the end of the file is dropped at start-up.
    pub dropped_from: u32,
}

/// A run of bytes of the input with what it means.
#[derive(Clone, Debug)]
pub struct Node {
    /// The bytes of this node; nodes are consecutive and cover the whole input.
    pub range: TextRange,
    /// What the bytes are.
    pub kind: NodeKind,
    /// A `;` comment on the node's line, without the newline.
    pub comment: Option<TextRange>,
    /// php.ini only: the node comes after a syntax error, so PHP never applies it.
    pub dropped: bool,
}

/// What a node is.
#[derive(Clone, Debug)]
pub enum NodeKind {
    /// Blank lines, comment lines, a BOM, blanks.
    Trivia,
    /// `[name]`.
    Section(Section),
    /// `key = value` or `key[index] = value`.
    Entry(Entry),
    /// A key without `=` (php.ini ignores it; FPM refuses it).
    BareLabel(BareLabel),
    /// The bytes of a statement with a syntax error, to the end of its line.
    Error,
    /// Bytes the scanner never reads (after a silent stop).
    Unread,
}

/// A section header.
#[derive(Clone, Debug)]
pub struct Section {
    /// The evaluated name (`${…}` expanded; constants are not, as in PHP).
    pub name: Vec<u8>,
    /// The bytes between `[` and `]`.
    pub name_range: TextRange,
    /// The whole `[…]`.
    pub header_range: TextRange,
}

/// A key without `=`.
#[derive(Clone, Debug)]
pub struct BareLabel {
    /// The label, blanks trimmed.
    pub label: Vec<u8>,
    /// Its bytes.
    pub range: TextRange,
}

/// An assignment.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The key, blanks trimmed, case kept.
    pub key: Vec<u8>,
    /// The key's bytes.
    pub key_range: TextRange,
    /// `[index]` for `key[index] = value` and `key[] = value`.
    pub index: Option<Index>,
    /// The value.
    pub value: Value,
}

impl Entry {
    /// The key as text (invalid UTF-8 replaced).
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
}

/// The `[…]` of an array entry.
#[derive(Clone, Debug)]
pub struct Index {
    /// The evaluated index; empty for `[]`.
    pub name: Vec<u8>,
    /// The bytes between `[` and `]`.
    pub range: TextRange,
}

/// How a value was written, which decides what it means to FPM and PHP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueForm {
    /// Nothing after `=`.
    Empty,
    /// `true`, `on`, `yes` (PHP passes "1").
    True,
    /// `false`, `off`, `no`, `none` (PHP passes "").
    False,
    /// `null` (PHP passes "").
    Null,
    /// Text: plain, quoted, `${…}`, constants, concatenated.
    Text,
    /// A `| & ^ ~ !` expression (PHP passes the decimal result).
    Expression,
}

/// A value with its span and its meaning.
#[derive(Clone, Debug)]
pub struct Value {
    /// The bytes of the value as written, from its first to its last byte (the blanks
    /// around it and a trailing comment excluded). Empty for an empty value, placed after
    /// the `=`; a fix that replaces a value replaces exactly this.
    pub range: TextRange,
    /// What PHP hands to the callback.
    pub text: Vec<u8>,
    /// How it was written.
    pub form: ValueForm,
    /// True when a `${…}` contributed, so the text depends on the server's environment.
    pub uses_env: bool,
    /// True when any part was quoted (`"…"` or `'…'`).
    pub quoted: bool,
}

impl Value {
    /// The evaluated text (invalid UTF-8 replaced).
    pub fn text_str(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }
}

impl IniTree {
    /// The input rebuilt from the nodes: equal to the input for every input.
    pub fn reassemble(&self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for n in &self.nodes {
            out.extend_from_slice(&text[n.range.as_range()]);
        }
        out
    }

    /// Entries in file order, with the node each belongs to.
    pub fn entries(&self) -> impl Iterator<Item = (&Node, &Entry)> {
        self.nodes.iter().filter_map(|n| match &n.kind {
            NodeKind::Entry(e) => Some((n, e)),
            _ => None,
        })
    }

    /// What the program does because of `err`, as a note for the user: php.ini stops
    /// reading at start-up (the rest of the file is ignored); FPM refuses the file.
    pub fn consequence(&self, err: &IniSyntaxError, text: &[u8]) -> String {
        match self.dialect {
            Dialect::PhpIni => {
                let from = (err.dropped_from as usize).min(text.len());
                let rest = &text[from..];
                let lines = rest
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count();
                format!(
                    "PHP reports this at start-up and ignores everything from here to the end of the file ({lines} line(s)); the settings before it still apply"
                )
            }
            Dialect::Fpm => "php-fpm fails to load this file and refuses to start".to_string(),
        }
    }

    /// True when the file has a syntax error.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// Parse with no environment variables and the built-in constants.
pub fn parse(text: &[u8], dialect: Dialect) -> IniTree {
    parse_with(
        text,
        &ParseOptions {
            dialect,
            env: &NoEnv,
            earlier_keys: dialect == Dialect::PhpIni,
        },
    )
}

/// Parse with explicit options.
pub fn parse_with(text: &[u8], opts: &ParseOptions<'_>) -> IniTree {
    parser::parse(text, opts)
}

#[cfg(test)]
pub(crate) mod php_oracle;
#[cfg(test)]
mod tests;
