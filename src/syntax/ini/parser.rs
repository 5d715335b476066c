//! The grammar of `zend_ini_parser.y` over the tokens of [`super::lexer`], building the
//! lossless node list and evaluating values as PHP does.
//!
//! Expressions are parsed with explicit stacks (no recursion), so nesting depth cannot
//! overflow the Rust stack; like bison's `YYMAXDEPTH`, a very deep nesting is an error.

use super::eval::do_op;
use super::lexer::{Lexer, Tok, Token};
use super::{
    BareLabel, Dialect, Entry, Index, IniSyntaxError, IniTree, Node, NodeKind, ParseOptions,
    Section, Value, ValueForm,
};
use crate::diagnostic::SyntaxError;
use crate::source::TextRange;
use std::collections::HashMap;

/// Bison's default `YYMAXDEPTH`; deeper nesting is "memory exhausted" in PHP too.
const MAX_DEPTH: usize = 10_000;

/// Parse `text` as `opts.dialect` says.
pub(crate) fn parse(text: &[u8], opts: &ParseOptions<'_>) -> IniTree {
    let len = text.len();
    let mut tree = IniTree {
        dialect: opts.dialect,
        len: len as u32,
        nodes: Vec::new(),
        errors: Vec::new(),
        truncations: Vec::new(),
    };
    match opts.dialect {
        Dialect::PhpIni => {
            let mut p = Parser::new(text, 0, len, opts, true);
            p.run();
            p.finish_into(&mut tree, len);
        }
        Dialect::Fpm => {
            // FPM reads up to each `\n` and appends a `\n` to a last line that lacks one.
            let owned;
            let src: &[u8] = if !text.is_empty() && !text.ends_with(b"\n") {
                owned = [text, b"\n"].concat();
                &owned
            } else {
                text
            };
            let mut start = 0;
            let mut earlier = HashMap::new();
            while start < src.len() {
                let end = src[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(src.len(), |i| start + i + 1);
                // FPM hands each line to the scanner as a C string: a NUL ends it.
                let cut = src[start..end]
                    .iter()
                    .position(|&b| b == 0)
                    .map_or(end, |k| start + k);
                let mut p = Parser::new(src, start, cut, opts, false);
                p.earlier = std::mem::take(&mut earlier);
                p.run();
                earlier = std::mem::take(&mut p.earlier);
                p.finish_into(&mut tree, len);
                let rest = TextRange::from_usize(cut.min(len), end.min(len));
                if !rest.is_empty() {
                    tree.truncations.push(rest);
                    tree.nodes.push(Node {
                        range: rest,
                        kind: NodeKind::Unread,
                        comment: None,
                        dropped: false,
                    });
                }
                start = end;
            }
        }
    }
    tree
}

/// A statement could not be parsed: the offending token and what bison expected instead.
struct Stop(Token, Option<&'static str>);

const EXPECT_RBRACKET: &str = "']'";
const EXPECT_EQ: &str = "'='";
const EXPECT_VARNAME: &str = "TC_VARNAME";
const EXPECT_RBRACE: &str = "'}'";
const EXPECT_QUOTED: &str = "TC_DOLLAR_CURLY or TC_QUOTED_STRING or '\"'";
/// Not a token list: bison's own "memory exhausted" message.
const MEMORY_EXHAUSTED: &str = "memory exhausted";
const EXPECT_PAREN: &str = "'^' or '|' or '&' or ')'";

fn is_piece(k: Tok) -> bool {
    matches!(
        k,
        Tok::DollarCurly
            | Tok::Constant
            | Tok::Raw
            | Tok::Number
            | Tok::String
            | Tok::Whitespace
            | Tok::DQuote
    )
}

enum Frame {
    Paren,
    Prefix(u8),
    Bin(u8),
}

struct Parser<'t, 'o> {
    text: &'t [u8],
    lx: Lexer<'t>,
    opts: &'o ParseOptions<'o>,
    peeked: Option<Token>,
    node_start: usize,
    window_end: usize,
    nodes: Vec<Node>,
    errors: Vec<IniSyntaxError>,
    truncations: Vec<TextRange>,
    /// php.ini: after the first error nothing more is applied.
    stop_applies: bool,
    dropped: bool,
    earlier: HashMap<Vec<u8>, Vec<u8>>,
}

/// The pieces of a value so far.
#[derive(Default)]
struct Acc {
    text: Vec<u8>,
    uses_env: bool,
    quoted: bool,
}

impl<'t, 'o> Parser<'t, 'o> {
    fn new(
        text: &'t [u8],
        start: usize,
        end: usize,
        opts: &'o ParseOptions<'o>,
        stop_applies: bool,
    ) -> Self {
        Parser {
            text,
            lx: Lexer::new(text, start, end),
            opts,
            peeked: None,
            node_start: start,
            window_end: end,
            nodes: Vec::new(),
            errors: Vec::new(),
            truncations: Vec::new(),
            stop_applies,
            dropped: false,
            earlier: HashMap::new(),
        }
    }

    fn finish_into(self, tree: &mut IniTree, len: usize) {
        let clamp = |r: TextRange| {
            TextRange::from_usize((r.start as usize).min(len), (r.end as usize).min(len))
        };
        for mut n in self.nodes {
            // FPM's appended newline is not in the input: keep every range inside it.
            n.range = clamp(n.range);
            n.comment = n.comment.map(clamp);
            match &mut n.kind {
                NodeKind::Entry(e) => {
                    e.key_range = clamp(e.key_range);
                    e.value.range = clamp(e.value.range);
                    if let Some(ix) = &mut e.index {
                        ix.range = clamp(ix.range);
                    }
                }
                NodeKind::Section(sec) => {
                    sec.name_range = clamp(sec.name_range);
                    sec.header_range = clamp(sec.header_range);
                }
                NodeKind::BareLabel(b) => b.range = clamp(b.range),
                _ => {}
            }
            if n.range.is_empty() {
                continue;
            }
            tree.nodes.push(n);
        }
        tree.errors.extend(self.errors.into_iter().map(|mut e| {
            e.error.range = clamp(e.error.range);
            e.dropped_from = e.dropped_from.min(len as u32);
            e
        }));
        tree.truncations.extend(
            self.truncations
                .into_iter()
                .map(clamp)
                .filter(|r| !r.is_empty()),
        );
    }

    /// The next token that is not trivia (trivia ends up in the next node's range).
    fn next(&mut self) -> Token {
        if let Some(t) = self.peeked.take() {
            return t;
        }
        loop {
            let t = self.lx.next_token();
            if t.kind != Tok::Trivia {
                return t;
            }
        }
    }

    fn push_back(&mut self, t: Token) {
        self.peeked = Some(t);
    }

    fn slice(&self, r: TextRange) -> &'t [u8] {
        &self.text[r.as_range()]
    }

    fn push_node(&mut self, end: usize, kind: NodeKind, comment: Option<TextRange>) {
        if end <= self.node_start && matches!(kind, NodeKind::Trivia) {
            return;
        }
        let end = end.max(self.node_start);
        self.nodes.push(Node {
            range: TextRange::from_usize(self.node_start, end),
            kind,
            comment,
            dropped: self.dropped,
        });
        self.node_start = end;
    }

    fn ends_line(&self, end: usize) -> bool {
        end > 0 && matches!(self.text[end - 1], b'\n' | b'\r')
    }

    /// Close a statement at `end`, taking a following end-of-line (and its comment) in.
    fn finish_statement(&mut self, end: usize, kind: NodeKind) {
        let mut end = end;
        let mut comment = None;
        if !self.ends_line(end) {
            let t = self.next();
            if t.kind == Tok::Eol {
                end = t.range.end as usize;
                comment = t.comment;
            } else {
                self.push_back(t);
            }
        }
        self.push_node(end, kind, comment);
    }

    fn record(&mut self, t: &Token, expecting: Option<&str>) {
        if expecting == Some(MEMORY_EXHAUSTED) {
            self.record_msg(t, MEMORY_EXHAUSTED.to_string());
            return;
        }
        let mut msg = format!("syntax error, unexpected {}", t.kind.bison_name());
        if let Some(e) = expecting {
            msg.push_str(", expecting ");
            msg.push_str(e);
        }
        self.record_msg(t, msg);
    }

    fn record_msg(&mut self, t: &Token, msg: String) {
        let mut range = t.range;
        if range.is_empty() && (range.start as usize) < self.window_end {
            let b = self.text[range.start as usize];
            if b != b'\n' && b != b'\r' {
                range = TextRange::new(range.start, range.start + 1);
            }
        }
        self.errors.push(IniSyntaxError {
            error: SyntaxError::new(range, msg),
            php_line: t.php_line,
            dropped_from: self.node_start as u32,
        });
        // Recover at the start of the next physical line.
        let from = (t.range.start as usize).max(self.lx.pos().min(t.range.end as usize));
        let resume = if t.range.end > t.range.start && self.ends_line(t.range.end as usize) {
            t.range.end as usize
        } else {
            self.text[from..self.window_end]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(self.window_end, |i| from + i + 1)
        };
        let resume = resume.max(t.range.end as usize).min(self.window_end);
        self.peeked = None;
        self.lx.reset_at(resume);
        self.push_node(resume, NodeKind::Error, None);
        if self.stop_applies {
            self.dropped = true;
        }
    }

    fn run(&mut self) {
        loop {
            let t = self.next();
            let res = match t.kind {
                Tok::End => {
                    let pos = t.range.start as usize;
                    self.push_node(pos, NodeKind::Trivia, None);
                    if pos < self.window_end {
                        self.truncations
                            .push(TextRange::from_usize(pos, self.window_end));
                        self.push_node(self.window_end, NodeKind::Unread, None);
                    }
                    return;
                }
                Tok::Eol => {
                    self.push_node(t.range.end as usize, NodeKind::Trivia, t.comment);
                    Ok(())
                }
                Tok::Section => self.section(t),
                Tok::Offset => self.offset_entry(t),
                Tok::Label => self.label(t),
                _ => Err(Stop(t, None)),
            };
            if let Err(Stop(t, expecting)) = res {
                self.record(&t, expecting);
            }
        }
    }

    /// `TC_SECTION section_string_or_value ']'`
    fn section(&mut self, open: Token) -> Result<(), Stop> {
        let mut acc = Acc::default();
        loop {
            let t = self.next();
            match t.kind {
                Tok::RBracket => {
                    let name_range = TextRange::new(open.range.end, t.text.start);
                    let header_range = TextRange::new(open.range.start, t.text.end);
                    let sec = Section {
                        name: acc.text,
                        name_range,
                        header_range,
                    };
                    self.finish_statement(t.range.end as usize, NodeKind::Section(sec));
                    return Ok(());
                }
                k if is_piece(k) => {
                    self.piece(t, &mut acc, false)?;
                }
                _ => return Err(Stop(t, Some(EXPECT_RBRACKET))),
            }
        }
    }

    /// `TC_OFFSET option_offset ']' '=' string_or_value`
    fn offset_entry(&mut self, off: Token) -> Result<(), Stop> {
        let open = self
            .slice(TextRange::new(off.text.end, off.range.end))
            .iter()
            .position(|&b| b == b'[')
            .map_or(off.range.end as usize, |i| off.text.end as usize + i + 1);
        let mut acc = Acc::default();
        let close = loop {
            let t = self.next();
            match t.kind {
                Tok::RBracket => break t,
                k if is_piece(k) => {
                    self.piece(t, &mut acc, false)?;
                }
                _ => return Err(Stop(t, Some(EXPECT_RBRACKET))),
            }
        };
        let index = Index {
            name: acc.text,
            range: TextRange::from_usize(open, close.text.start as usize),
        };
        let eq = self.next();
        if eq.kind != Tok::Eq {
            return Err(Stop(eq, Some(EXPECT_EQ)));
        }
        let key = self.slice(off.text).to_vec();
        self.value_statement(key, off.text, Some(index), eq)
    }

    /// `TC_LABEL '=' string_or_value` or a bare `TC_LABEL`.
    fn label(&mut self, l: Token) -> Result<(), Stop> {
        let t = self.next();
        let key = self.slice(l.text).to_vec();
        if t.kind == Tok::Eq {
            return self.value_statement(key, l.text, None, t);
        }
        self.push_back(t);
        let bare = BareLabel {
            label: key,
            range: l.text,
        };
        self.finish_statement(l.range.end as usize, NodeKind::BareLabel(bare));
        Ok(())
    }

    fn value_statement(
        &mut self,
        key: Vec<u8>,
        key_range: TextRange,
        index: Option<Index>,
        eq: Token,
    ) -> Result<(), Stop> {
        let t = self.next();
        let (value, end, comment) = match t.kind {
            Tok::BoolTrue | Tok::BoolFalse | Tok::Null => {
                let (text, form) = match t.kind {
                    Tok::BoolTrue => (b"1".to_vec(), ValueForm::True),
                    Tok::BoolFalse => (Vec::new(), ValueForm::False),
                    _ => (Vec::new(), ValueForm::Null),
                };
                let v = Value {
                    range: t.text,
                    text,
                    form,
                    uses_env: false,
                    quoted: false,
                };
                (v, t.range.end as usize, None)
            }
            Tok::Eol => {
                let v = Value {
                    range: TextRange::empty(eq.range.end),
                    text: Vec::new(),
                    form: ValueForm::Empty,
                    uses_env: false,
                    quoted: false,
                };
                (v, t.range.end as usize, t.comment)
            }
            k if is_piece(k) || matches!(k, Tok::Op(b'~' | b'!' | b'(')) => {
                let (v, end) = self.expr(t)?;
                (v, end, None)
            }
            _ => return Err(Stop(t, None)),
        };
        if index.is_none() && !self.dropped {
            self.earlier.insert(key.clone(), value.text.clone());
        }
        let entry = Entry {
            key,
            key_range,
            index,
            value,
        };
        if let Some(c) = comment {
            self.push_node(end, NodeKind::Entry(entry), Some(c));
        } else if self.ends_line(end) {
            self.push_node(end, NodeKind::Entry(entry), None);
        } else {
            self.finish_statement(end, NodeKind::Entry(entry));
        }
        Ok(())
    }

    /// `expr`, from its first token; returns the value and the end of its last token.
    fn expr(&mut self, first: Token) -> Result<(Value, usize), Stop> {
        let start = if first.kind == Tok::DQuote {
            first.text.start
        } else {
            first.range.start
        };
        let mut ops: Vec<Frame> = Vec::new();
        let mut vals: Vec<Vec<u8>> = Vec::new();
        let mut open_parens = 0usize;
        let mut computed = false;
        let mut uses_env = false;
        let mut quoted = false;
        let mut expect_operand = true;
        let mut last_end = first.range.end as usize;
        let mut tok = first;
        loop {
            if ops.len() > MAX_DEPTH {
                return Err(Stop(tok, Some(MEMORY_EXHAUSTED)));
            }
            if expect_operand {
                match tok.kind {
                    Tok::Op(c @ (b'~' | b'!')) => {
                        ops.push(Frame::Prefix(c));
                        computed = true;
                        last_end = tok.range.end as usize;
                        tok = self.next();
                    }
                    Tok::Op(b'(') => {
                        ops.push(Frame::Paren);
                        open_parens += 1;
                        last_end = tok.range.end as usize;
                        tok = self.next();
                    }
                    k if is_piece(k) => {
                        let mut acc = Acc::default();
                        let mut t = tok;
                        loop {
                            last_end = self.piece(t, &mut acc, true)?;
                            t = self.next();
                            if !is_piece(t.kind) {
                                break;
                            }
                        }
                        uses_env |= acc.uses_env;
                        quoted |= acc.quoted;
                        vals.push(acc.text);
                        expect_operand = false;
                        tok = t;
                    }
                    _ => return Err(Stop(tok, None)),
                }
            } else {
                match tok.kind {
                    Tok::Op(c @ (b'|' | b'&' | b'^')) => {
                        while matches!(ops.last(), Some(Frame::Prefix(_) | Frame::Bin(_))) {
                            reduce(&mut ops, &mut vals);
                        }
                        ops.push(Frame::Bin(c));
                        computed = true;
                        expect_operand = true;
                        last_end = tok.range.end as usize;
                        tok = self.next();
                    }
                    Tok::Op(b')') if open_parens > 0 => {
                        while !matches!(ops.last(), Some(Frame::Paren) | None) {
                            reduce(&mut ops, &mut vals);
                        }
                        ops.pop();
                        open_parens -= 1;
                        last_end = tok.range.end as usize;
                        tok = self.next();
                    }
                    _ => {
                        if open_parens > 0 {
                            return Err(Stop(tok, Some(EXPECT_PAREN)));
                        }
                        while !ops.is_empty() {
                            reduce(&mut ops, &mut vals);
                        }
                        self.push_back(tok);
                        break;
                    }
                }
            }
        }
        let text = vals.pop().unwrap_or_default();
        let mut end = last_end;
        while end > start as usize && matches!(self.text[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        let v = Value {
            range: TextRange::from_usize(start as usize, end),
            text,
            form: if computed {
                ValueForm::Expression
            } else {
                ValueForm::Text
            },
            uses_env,
            quoted,
        };
        Ok((v, last_end))
    }

    /// One piece of a string list: a literal, a constant, `${…}` or `"…"`; returns the
    /// end of its last token.
    fn piece(&mut self, t: Token, acc: &mut Acc, constants: bool) -> Result<usize, Stop> {
        let mut end = t.range.end as usize;
        match t.kind {
            Tok::Constant => {
                let name = self.slice(t.text);
                match constants.then(|| self.opts.env.constant(name)).flatten() {
                    Some(v) => acc.text.extend_from_slice(&v),
                    None => acc.text.extend_from_slice(name),
                }
            }
            Tok::Raw => {
                acc.quoted = true;
                acc.text.extend_from_slice(self.slice(t.text));
            }
            Tok::Number | Tok::String | Tok::Whitespace => {
                acc.text.extend_from_slice(self.slice(t.text));
            }
            Tok::DollarCurly => end = self.var_ref(acc)?,
            Tok::DQuote => {
                acc.quoted = true;
                loop {
                    let q = self.next();
                    match q.kind {
                        Tok::QuotedString => {
                            if let Some(u) = &q.unescaped {
                                acc.text.extend_from_slice(u);
                            }
                        }
                        Tok::DollarCurly => {
                            self.var_ref(acc)?;
                        }
                        Tok::DQuote => {
                            end = q.range.end as usize;
                            break;
                        }
                        _ => return Err(Stop(q, Some(EXPECT_QUOTED))),
                    }
                }
            }
            _ => return Err(Stop(t, None)),
        }
        Ok(end)
    }

    /// `TC_DOLLAR_CURLY TC_VARNAME '}'`, after the `${`; returns the end of the `}`.
    fn var_ref(&mut self, acc: &mut Acc) -> Result<usize, Stop> {
        let name = self.next();
        if name.kind != Tok::VarName {
            return Err(Stop(name, Some(EXPECT_VARNAME)));
        }
        let close = self.next();
        if close.kind != Tok::RBrace {
            return Err(Stop(close, Some(EXPECT_RBRACE)));
        }
        let n = self.slice(name.text);
        acc.uses_env = true;
        let earlier = if self.opts.earlier_keys {
            self.earlier.get(n).cloned()
        } else {
            None
        };
        if let Some(v) = earlier.or_else(|| self.opts.env.var(n)) {
            acc.text.extend_from_slice(&v);
        }
        Ok(close.range.end as usize)
    }
}

fn reduce(ops: &mut Vec<Frame>, vals: &mut Vec<Vec<u8>>) {
    match ops.pop() {
        Some(Frame::Prefix(c)) => {
            let a = vals.pop().unwrap_or_default();
            vals.push(do_op(c, &a, None));
        }
        Some(Frame::Bin(c)) => {
            let b = vals.pop().unwrap_or_default();
            let a = vals.pop().unwrap_or_default();
            vals.push(do_op(c, &a, Some(&b)));
        }
        Some(Frame::Paren) | None => {}
    }
}
