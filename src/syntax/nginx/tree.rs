//! The lossless nginx syntax tree: a flat, preorder arena of directives over the file's
//! bytes. The tree does not own the text; views ([`DirectiveRef`], [`WordRef`]) pair it
//! with the text to hand out names and decoded values.

use super::lexer::{is_space, unescape, Quote, Token, TokenKind};
use crate::diagnostic::SyntaxError;
use crate::source::TextRange;
use std::borrow::Cow;

/// Index of a directive in its file's [`NginxTree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectiveId(pub u32);

/// How a directive ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectiveEnd {
    /// With `;` at this range.
    Semicolon(TextRange),
    /// With a `{ … }` block; `close` is `None` when the file ended first.
    Block {
        /// The `{`.
        open: TextRange,
        /// The matching `}`.
        close: Option<TextRange>,
    },
    /// A `*_by_lua_block { … }` whose body is Lua, kept raw.
    LuaBlock {
        /// The `{`.
        open: TextRange,
        /// The bytes between the braces.
        body: TextRange,
        /// The matching `}`, `None` when the file ended first.
        close: Option<TextRange>,
    },
    /// Neither: the file ended or a `}` came before `;` (a syntax error was recorded).
    Missing,
}

/// One directive in the arena.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// From the first byte of the name to the end of the `;` or `}` (or the last byte
    /// that belongs to it when it is unterminated).
    pub span: TextRange,
    /// `words[words_start]` is the name; the rest up to `words_end` are the arguments.
    words_start: u32,
    words_end: u32,
    /// How it ends.
    pub end: DirectiveEnd,
    /// The enclosing block directive (`u32::MAX` at file level).
    parent: u32,
    /// One past the last descendant: descendants are `id+1 .. subtree_end`.
    subtree_end: u32,
}

/// The syntax tree of one nginx file (or fragment).
#[derive(Clone, Debug, Default)]
pub struct NginxTree {
    /// Every non-whitespace token in order; the gaps between them are whitespace.
    pub(crate) tokens: Vec<Token>,
    /// Every word (name or argument) in order.
    pub(crate) words: Vec<Token>,
    pub(crate) directives: Vec<Directive>,
    pub(crate) comments: Vec<TextRange>,
    /// Syntax errors, worded like nginx, in the order found.
    pub errors: Vec<SyntaxError>,
    /// True when the file starts with a UTF-8 byte order mark. nginx does not skip it: it
    /// becomes part of the first directive's name, so nginx reports an unknown directive.
    pub bom: bool,
    pub(crate) len: u32,
    /// The token stream was not recorded ([`parse_directives`](super::parse_directives)):
    /// no pieces either.
    pub(crate) tokens_dropped: bool,
}

/// The kind of a piece of the lossless token stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    /// Space, tab, CR, LF.
    Whitespace,
    /// A token of this kind.
    Token(TokenKind),
}

/// One piece of the file: a token or a whitespace run. Pieces tile the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// What the bytes are.
    pub kind: PieceKind,
    /// Where they are.
    pub range: TextRange,
}

impl NginxTree {
    pub(crate) fn push_directive(
        &mut self,
        words_start: usize,
        words_end: usize,
        end: DirectiveEnd,
        parent: Option<DirectiveId>,
    ) -> DirectiveId {
        let first = self.words[words_start].range;
        let last_word = self.words[words_end - 1].range;
        let span_end = match end {
            DirectiveEnd::Semicolon(r) => r.end,
            DirectiveEnd::Block { open, .. } => open.end,
            DirectiveEnd::LuaBlock { open, body, close } => {
                close.map_or(body.end, |c| c.end).max(open.end)
            }
            DirectiveEnd::Missing => last_word.end,
        };
        let id = self.directives.len() as u32;
        self.directives.push(Directive {
            span: TextRange::new(first.start, span_end),
            words_start: words_start as u32,
            words_end: words_end as u32,
            end,
            parent: parent.map_or(u32::MAX, |p| p.0),
            subtree_end: id + 1,
        });
        DirectiveId(id)
    }

    /// Close a block directive: its `}` (or the end of file) and its last descendant.
    pub(crate) fn close_block(&mut self, id: DirectiveId, close: Option<TextRange>, eof: u32) {
        let n = self.directives.len() as u32;
        let d = &mut self.directives[id.0 as usize];
        d.subtree_end = n;
        if let DirectiveEnd::Block { open, .. } = d.end {
            d.end = DirectiveEnd::Block { open, close };
        }
        d.span.end = close.map_or(eof, |c| c.end);
    }

    /// How many words (names and arguments) the file has.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// Number of directives.
    pub fn directive_count(&self) -> usize {
        self.directives.len()
    }

    /// The raw data of a directive.
    pub fn get(&self, id: DirectiveId) -> &Directive {
        &self.directives[id.0 as usize]
    }

    /// A view of directive `id` over `text` (the text this tree was parsed from).
    pub fn directive<'a>(&'a self, text: &'a [u8], id: DirectiveId) -> DirectiveRef<'a> {
        DirectiveRef {
            tree: self,
            text,
            id,
        }
    }

    /// The file-level directives.
    pub fn roots<'a>(&'a self, text: &'a [u8]) -> Children<'a> {
        Children {
            tree: self,
            text,
            next: 0,
            end: self.directives.len() as u32,
        }
    }

    /// Every directive in document (pre)order, at any depth.
    pub fn all<'a>(&'a self, text: &'a [u8]) -> impl Iterator<Item = DirectiveRef<'a>> + 'a {
        (0..self.directives.len() as u32).map(move |i| DirectiveRef {
            tree: self,
            text,
            id: DirectiveId(i),
        })
    }

    /// The `#` comments (without their line ends), in order.
    pub fn comments(&self) -> &[TextRange] {
        &self.comments
    }

    /// Every non-whitespace token in order.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The lossless stream: tokens and the whitespace between them. Concatenating the
    /// pieces' bytes gives the file back byte for byte.
    pub fn pieces(&self) -> Vec<Piece> {
        if self.tokens_dropped {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(self.tokens.len() * 2 + 1);
        let mut at = 0u32;
        for t in &self.tokens {
            if t.range.start > at {
                out.push(Piece {
                    kind: PieceKind::Whitespace,
                    range: TextRange::new(at, t.range.start),
                });
            }
            out.push(Piece {
                kind: PieceKind::Token(t.kind),
                range: t.range,
            });
            at = t.range.end;
        }
        if self.len > at {
            out.push(Piece {
                kind: PieceKind::Whitespace,
                range: TextRange::new(at, self.len),
            });
        }
        out
    }

    /// Check the lossless invariant against `text`: tokens are in order, do not overlap,
    /// and every gap holds only nginx whitespace. Returns the first offending offset.
    pub fn check_lossless(&self, text: &[u8]) -> Result<(), u32> {
        if self.len as usize != text.len() {
            return Err(0);
        }
        let mut at = 0u32;
        for t in &self.tokens {
            if t.range.start < at
                || t.range.end > self.len
                || t.range.is_empty() && t.kind != TokenKind::LuaBody
            {
                return Err(t.range.start);
            }
            if let Some(i) = text[at as usize..t.range.start as usize]
                .iter()
                .position(|&b| !is_space(b))
            {
                return Err(at + i as u32);
            }
            at = t.range.end;
        }
        if let Some(i) = text[at as usize..].iter().position(|&b| !is_space(b)) {
            return Err(at + i as u32);
        }
        Ok(())
    }

    /// True when the tree has no syntax error.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// The direct children of a block (or the file-level directives).
#[derive(Clone)]
pub struct Children<'a> {
    tree: &'a NginxTree,
    text: &'a [u8],
    next: u32,
    end: u32,
}

impl<'a> Iterator for Children<'a> {
    type Item = DirectiveRef<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        self.next = self.tree.directives[id as usize].subtree_end;
        Some(DirectiveRef {
            tree: self.tree,
            text: self.text,
            id: DirectiveId(id),
        })
    }
}

/// A directive together with its tree and text.
#[derive(Clone, Copy)]
pub struct DirectiveRef<'a> {
    tree: &'a NginxTree,
    text: &'a [u8],
    id: DirectiveId,
}

impl std::fmt::Debug for DirectiveRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectiveRef")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("span", &self.span())
            .finish()
    }
}

impl<'a> DirectiveRef<'a> {
    fn data(&self) -> &'a Directive {
        &self.tree.directives[self.id.0 as usize]
    }

    /// The directive's id in its tree.
    pub fn id(&self) -> DirectiveId {
        self.id
    }

    /// The whole directive, name to `;` or `}`.
    pub fn span(&self) -> TextRange {
        self.data().span
    }

    /// How it ends.
    pub fn end(&self) -> DirectiveEnd {
        self.data().end
    }

    /// The name word.
    pub fn name_word(&self) -> WordRef<'a> {
        WordRef {
            token: &self.tree.words[self.data().words_start as usize],
            text: self.text,
        }
    }

    /// The decoded name (lossy UTF-8).
    pub fn name(&self) -> Cow<'a, str> {
        self.name_word().as_str()
    }

    /// True when the decoded name is `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name_word().value().as_ref() == name.as_bytes()
    }

    /// The arguments (words after the name).
    pub fn args(&self) -> impl ExactSizeIterator<Item = WordRef<'a>> + 'a {
        let d = self.data();
        let text = self.text;
        self.tree.words[d.words_start as usize + 1..d.words_end as usize]
            .iter()
            .map(move |token| WordRef { token, text })
    }

    /// Number of arguments.
    pub fn arg_count(&self) -> usize {
        let d = self.data();
        (d.words_end - d.words_start - 1) as usize
    }

    /// Argument `i` (0-based, the name not counted).
    pub fn arg(&self, i: usize) -> Option<WordRef<'a>> {
        let d = self.data();
        let at = d.words_start as usize + 1 + i;
        if at < d.words_end as usize {
            Some(WordRef {
                token: &self.tree.words[at],
                text: self.text,
            })
        } else {
            None
        }
    }

    /// Argument `i` decoded, as (lossy) UTF-8.
    pub fn arg_str(&self, i: usize) -> Option<Cow<'a, str>> {
        self.arg(i).map(|w| w.as_str())
    }

    /// Argument `i` decoded, as bytes.
    pub fn arg_bytes(&self, i: usize) -> Option<Cow<'a, [u8]>> {
        self.arg(i).map(|w| w.value())
    }

    /// True for a `{ … }` directive (Lua blocks included).
    pub fn is_block(&self) -> bool {
        matches!(
            self.data().end,
            DirectiveEnd::Block { .. } | DirectiveEnd::LuaBlock { .. }
        )
    }

    /// The raw Lua body of a `*_by_lua_block`.
    pub fn lua_body(&self) -> Option<&'a [u8]> {
        match self.data().end {
            DirectiveEnd::LuaBlock { body, .. } => Some(&self.text[body.as_range()]),
            _ => None,
        }
    }

    /// The direct children of a block directive (none for others).
    pub fn children(&self) -> Children<'a> {
        Children {
            tree: self.tree,
            text: self.text,
            next: self.id.0 + 1,
            end: self.data().subtree_end,
        }
    }

    /// One past the id of the last descendant: descendants are `id+1 .. subtree_end()`.
    pub fn subtree_end(&self) -> DirectiveId {
        DirectiveId(self.data().subtree_end)
    }

    /// The text the directive was parsed from.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The enclosing block directive.
    pub fn parent(&self) -> Option<DirectiveRef<'a>> {
        let p = self.data().parent;
        (p != u32::MAX).then_some(DirectiveRef {
            tree: self.tree,
            text: self.text,
            id: DirectiveId(p),
        })
    }

    /// Names of the enclosing blocks, outermost first (e.g. `["http", "server"]`).
    pub fn block_path(&self) -> Vec<Cow<'a, str>> {
        let mut out = Vec::new();
        let mut at = self.parent();
        while let Some(p) = at {
            out.push(p.name());
            at = p.parent();
        }
        out.reverse();
        out
    }

    /// The comment after the directive on the line where it ends (`listen 80; # note`),
    /// where a trailing `# gatelint: ignore[…]` goes.
    pub fn trailing_comment(&self) -> Option<TextRange> {
        let end = match self.end() {
            DirectiveEnd::Semicolon(r) => r.end,
            DirectiveEnd::Block { open, .. } | DirectiveEnd::LuaBlock { open, .. } => open.end,
            DirectiveEnd::Missing => self.span().end,
        };
        let comments = &self.tree.comments;
        let c = *comments.get(comments.partition_point(|c| c.start < end))?;
        let between = &self.text[end as usize..c.start as usize];
        (!between.contains(&b'\n')
            && between
                .iter()
                .all(|&b| b == b' ' || b == b'\t' || b == b'\r'))
        .then_some(c)
    }

    /// The comments on the lines right above the directive, nearest last, stopping at the
    /// first line that holds anything else (a blank line included), where a leading
    /// `# gatelint: ignore[…]` goes.
    pub fn leading_comments(&self) -> Vec<TextRange> {
        let comments = &self.tree.comments;
        let mut i = comments.partition_point(|c| c.start < self.span().start);
        let mut at = self.span().start as usize;
        let mut out = Vec::new();
        while i > 0 {
            let c = comments[i - 1];
            let between = &self.text[c.end as usize..at];
            let newlines = between.iter().filter(|&&b| b == b'\n').count();
            if newlines != 1
                || !between
                    .iter()
                    .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            {
                break;
            }
            // The comment must start its own line.
            let line_start = self.text[..c.start as usize]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            if !self.text[line_start..c.start as usize]
                .iter()
                .all(|&b| b == b' ' || b == b'\t')
            {
                break;
            }
            out.push(c);
            at = c.start as usize;
            i -= 1;
        }
        out.reverse();
        out
    }

    /// The whitespace before the directive on its line, when the directive starts its
    /// line (what a fix uses to indent a new sibling line).
    pub fn indentation(&self) -> Option<&'a [u8]> {
        let start = (self.span().start as usize).min(self.text.len());
        // Back over spaces and tabs only: a directive that does not start its line stops
        // at the byte before it, not at the previous newline.
        let mut at = start;
        while at > 0 && matches!(self.text[at - 1], b' ' | b'\t') {
            at -= 1;
        }
        (at == 0 || self.text[at - 1] == b'\n').then(|| &self.text[at..start])
    }
}

/// A word (name or argument) with its text.
#[derive(Clone, Copy, Debug)]
pub struct WordRef<'a> {
    token: &'a Token,
    text: &'a [u8],
}

impl<'a> WordRef<'a> {
    /// The bytes in the source, quotes included.
    pub fn range(&self) -> TextRange {
        self.token.range
    }

    /// The bytes between the quotes (the whole word when unquoted).
    pub fn content_range(&self) -> TextRange {
        let r = self.token.range;
        match self.token.quote {
            Quote::None => r,
            _ if self.token.unterminated => TextRange::new(r.start + 1, r.end),
            _ => TextRange::new(r.start + 1, r.end - 1),
        }
    }

    /// The raw source bytes, quotes included.
    pub fn raw(&self) -> &'a [u8] {
        &self.text[self.token.range.as_range()]
    }

    /// How it was quoted.
    pub fn quote(&self) -> Quote {
        self.token.quote
    }

    /// True when the value differs from the content because of backslash escapes.
    pub fn is_escaped(&self) -> bool {
        self.token.escaped
    }

    /// The value nginx sees: quotes removed, escapes decoded.
    pub fn value(&self) -> Cow<'a, [u8]> {
        let content = &self.text[self.content_range().as_range()];
        if self.token.escaped {
            Cow::Owned(unescape(content))
        } else {
            Cow::Borrowed(content)
        }
    }

    /// The value as a slice of `whole` (the file's text as a `str`) when it needs no
    /// decoding (no escapes): a caller that validated the file once need not validate
    /// each word again.
    pub fn str_in<'t>(&self, whole: &'t str) -> Option<&'t str> {
        if self.token.escaped {
            return None;
        }
        whole.get(self.content_range().as_range())
    }

    /// The value as (lossy) UTF-8.
    pub fn as_str(&self) -> Cow<'a, str> {
        match self.value() {
            // `from_utf8` checks ASCII fast; the lossy decoder walks chunk by chunk.
            Cow::Borrowed(b) => match std::str::from_utf8(b) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(b),
            },
            Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
        }
    }
}
