//! A scanner that copies Zend's `zend_ini_scanner.l` (PHP 8.2, `INI_SCANNER_NORMAL`).
//!
//! It returns every byte of its window as tokens, trivia included (the whitespace and BOM
//! Zend eats), so a tree built from the tokens is lossless. Rules are tried as re2c tries
//! them: the longest match wins, and among equally long matches the rule written first.
//! Two re2c quirks matter for real files and are kept:
//! - a rule that has to read past the end of the input (an unterminated `'…`, a `;` comment
//!   without a final newline) makes the scanner return end-of-file, which silently drops
//!   what follows (PHP's `YYFILL` returns 0);
//! - the line counter PHP prints in its messages is advanced by `]` even when no newline
//!   follows it, so PHP's "on line N" can differ from the real line.

use crate::source::TextRange;

/// Token kinds of Zend's ini grammar, plus trivia.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `[` opening a section (`TC_SECTION`).
    Section,
    /// `]` closing a section or an offset.
    RBracket,
    /// An option name (`TC_LABEL`).
    Label,
    /// An option name followed by `[` (`TC_OFFSET`).
    Offset,
    /// `=` starting a value.
    Eq,
    /// End of a value or a line (`END_OF_LINE`), possibly holding a `;` comment.
    Eol,
    /// `${`.
    DollarCurly,
    /// The name inside `${…}` (`TC_VARNAME`).
    VarName,
    /// `}` closing `${…}`.
    RBrace,
    /// `true`, `on` or `yes`.
    BoolTrue,
    /// `false`, `off`, `no` or `none`.
    BoolFalse,
    /// `null`.
    Null,
    /// An identifier, looked up as a PHP constant in values (`TC_CONSTANT`).
    Constant,
    /// A number, kept as text (`TC_NUMBER`).
    Number,
    /// Other unquoted text (`TC_STRING`).
    String,
    /// `'…'` (`TC_RAW`).
    Raw,
    /// Blanks inside a value (`TC_WHITESPACE`).
    Whitespace,
    /// `"` opening or closing a double-quoted string.
    DQuote,
    /// Text between double quotes (`TC_QUOTED_STRING`).
    QuotedString,
    /// One of `| & ^ ~ ! ( )` in a value.
    Op(u8),
    /// A character that cannot start a statement, returned as itself.
    Char(u8),
    /// End of input, or a character no rule matches (Zend returns 0 for both).
    End,
    /// Bytes Zend skips: blanks between tokens, a UTF-8 BOM.
    Trivia,
}

impl Tok {
    /// The name bison prints for this token in `syntax error, unexpected …`.
    pub(crate) fn bison_name(self) -> String {
        match self {
            Tok::Section => "TC_SECTION".into(),
            Tok::RBracket => "']'".into(),
            Tok::Label => "TC_LABEL".into(),
            Tok::Offset => "TC_OFFSET".into(),
            Tok::Eq => "'='".into(),
            Tok::Eol => "END_OF_LINE".into(),
            Tok::DollarCurly => "TC_DOLLAR_CURLY".into(),
            Tok::VarName => "TC_VARNAME".into(),
            Tok::RBrace => "'}'".into(),
            Tok::BoolTrue => "BOOL_TRUE".into(),
            Tok::BoolFalse => "BOOL_FALSE".into(),
            Tok::Null => "NULL_NULL".into(),
            Tok::Constant => "TC_CONSTANT".into(),
            Tok::Number => "TC_NUMBER".into(),
            Tok::String => "TC_STRING".into(),
            Tok::Raw => "TC_RAW".into(),
            Tok::Whitespace => "TC_WHITESPACE".into(),
            Tok::DQuote => "'\"'".into(),
            Tok::QuotedString => "TC_QUOTED_STRING".into(),
            Tok::Op(c) | Tok::Char(c) => format!("'{}'", c as char),
            Tok::End => "end of file".into(),
            Tok::Trivia => "trivia".into(),
        }
    }
}

/// One token: what it is, the bytes it consumed and the bytes of its meaning.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub kind: Tok,
    /// Every byte the scanner consumed for it.
    pub range: TextRange,
    /// The token's text as Zend hands it to the parser (quotes, blanks, `[` removed).
    pub text: TextRange,
    /// For `QuotedString`: the text after `\"`, `\\` and `\$` are unescaped.
    pub unescaped: Option<Vec<u8>>,
    /// For `Eol`: the `;` comment it swallowed, without the newline.
    pub comment: Option<TextRange>,
    /// PHP's line counter after this token was scanned.
    pub php_line: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Initial,
    Value,
    SectionValue,
    Offset,
    DoubleQuotes,
    VarName,
}

/// The scanner over `text[start..end]`; offsets in tokens are absolute.
pub(crate) struct Lexer<'a> {
    text: &'a [u8],
    end: usize,
    pos: usize,
    state: State,
    stack: Vec<State>,
    php_line: u32,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `LABEL [^=\n\r\t;&|^$~(){}!"\[]+`
fn is_label(b: u8) -> bool {
    !matches!(
        b,
        b'=' | b'\n'
            | b'\r'
            | b'\t'
            | b';'
            | b'&'
            | b'|'
            | b'^'
            | b'$'
            | b'~'
            | b'('
            | b')'
            | b'{'
            | b'}'
            | b'!'
            | b'"'
            | b'['
    )
}

/// `TOKENS [:,.\[\]"'()&|^+-/*=%$!~<>?@{}]`
fn is_token_char(b: u8) -> bool {
    b":,.[]\"'()&|^+-/*=%$!~<>?@{}".contains(&b)
}

impl<'a> Lexer<'a> {
    /// A scanner over `text[start..end]`, in the initial state, PHP line 1.
    pub(crate) fn new(text: &'a [u8], start: usize, end: usize) -> Self {
        Lexer {
            text,
            end,
            pos: start,
            state: State::Initial,
            stack: Vec::new(),
            php_line: 1,
        }
    }

    /// Current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    fn at(&self, i: usize) -> Option<u8> {
        if i < self.end {
            Some(self.text[i])
        } else {
            None
        }
    }

    /// Length of `[ \t]*` from `i`.
    fn blanks(&self, i: usize) -> usize {
        let mut j = i;
        while self.at(j).is_some_and(is_blank) {
            j += 1;
        }
        j - i
    }

    /// Length of a NEWLINE (`\r`, `\n`, `\r\n`) at `i`, or 0.
    fn newline(&self, i: usize) -> usize {
        match self.at(i) {
            Some(b'\n') => 1,
            Some(b'\r') => {
                if self.at(i + 1) == Some(b'\n') {
                    2
                } else {
                    1
                }
            }
            _ => 0,
        }
    }

    /// `[ \t]*;[^\r\n]*{NEWLINE}` at `i`: Some(Ok(len)) on a match, Some(Err(())) when the
    /// comment runs to the end of input (re2c reads past the end: end of file), None when
    /// there is no `;` after the blanks.
    fn comment(&self, i: usize) -> Option<Result<(usize, usize), ()>> {
        let b = self.blanks(i);
        if self.at(i + b) != Some(b';') {
            return None;
        }
        let mut j = i + b + 1;
        while let Some(c) = self.at(j) {
            if c == b'\n' || c == b'\r' {
                let nl = self.newline(j);
                return Some(Ok((i + b, j + nl - i)));
            }
            j += 1;
        }
        Some(Err(()))
    }

    fn bool_word(&self, i: usize) -> Option<(Tok, usize)> {
        const WORDS: [(&[u8], Tok); 8] = [
            (b"true", Tok::BoolTrue),
            (b"on", Tok::BoolTrue),
            (b"yes", Tok::BoolTrue),
            (b"false", Tok::BoolFalse),
            (b"off", Tok::BoolFalse),
            (b"none", Tok::BoolFalse),
            (b"no", Tok::BoolFalse),
            (b"null", Tok::Null),
        ];
        for (w, t) in WORDS {
            let end = i + w.len();
            if end <= self.end && self.text[i..end].eq_ignore_ascii_case(w) {
                return Some((t, w.len() + self.blanks(end)));
            }
        }
        None
    }

    /// `CONSTANT [a-zA-Z_][a-zA-Z0-9_]*`
    fn constant(&self, i: usize) -> usize {
        match self.at(i) {
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
            _ => return 0,
        }
        let mut j = i + 1;
        while self
            .at(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            j += 1;
        }
        j - i
    }

    /// `NUMBER [-]?[0-9]+ | [0-9]*\.[0-9]+ | [0-9]+\.[0-9]*` (longest alternative).
    fn number(&self, i: usize) -> usize {
        let digits = |mut j: usize| {
            let s = j;
            while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            j - s
        };
        let mut best = 0;
        // [-]?LNUM
        let neg = usize::from(self.at(i) == Some(b'-'));
        let d = digits(i + neg);
        if d > 0 {
            best = neg + d;
        }
        // DNUM
        let d1 = digits(i);
        if self.at(i + d1) == Some(b'.') {
            let d2 = digits(i + d1 + 1);
            if d1 > 0 || d2 > 0 {
                best = best.max(d1 + 1 + d2);
            }
        }
        best
    }

    /// `{LITERAL_DOLLAR}` at `i` (which holds `$`): its length, or 0.
    fn literal_dollar(&self, i: usize) -> usize {
        match self.at(i + 1) {
            Some(b'\\') if self.at(i + 2).is_some() => 3,
            Some(b'{') | Some(0) | None => 0,
            Some(_) => 2,
        }
    }

    /// `{VALUE_CHARS}+`
    fn value_chars(&self, i: usize) -> usize {
        let mut j = i;
        while let Some(c) = self.at(j) {
            if c == b'$' {
                let l = self.literal_dollar(j);
                if l == 0 {
                    break;
                }
                j += l;
                continue;
            }
            if matches!(
                c,
                b'=' | b' '
                    | b'\t'
                    | b'\n'
                    | b'\r'
                    | b';'
                    | b'&'
                    | b'|'
                    | b'^'
                    | b'~'
                    | b'('
                    | b')'
                    | b'!'
                    | b'"'
                    | b'\''
                    | 0
            ) {
                break;
            }
            j += 1;
        }
        j - i
    }

    /// `{SECTION_VALUE_CHARS}+`; `Err` when it runs into the end of input (re2c reads on).
    fn section_value_chars(&self, i: usize) -> Result<usize, ()> {
        let mut j = i;
        while let Some(c) = self.at(j) {
            match c {
                b'$' => {
                    let l = self.literal_dollar(j);
                    if l == 0 {
                        break;
                    }
                    j += l;
                }
                b'\\' => {
                    if self.at(j + 1).is_none() {
                        break;
                    }
                    j += 2;
                }
                b'\n' | b'\r' | b';' | b'"' | b'\'' | b']' => break,
                _ => j += 1,
            }
        }
        if j >= self.end && j > i {
            // `[^…]` includes the NUL past the end: re2c would read on and stop.
            return Err(());
        }
        Ok(j - i)
    }

    /// `'[^']+'` at `i`: Ok(len) on a match, Err(true) when no closing quote exists (end
    /// of file), Err(false) when the quote is immediately closed (`''`, no match).
    fn raw(&self, i: usize) -> Result<usize, bool> {
        if self.at(i + 1) == Some(b'\'') {
            return Err(false);
        }
        match self.text[i + 1..self.end].iter().position(|&c| c == b'\'') {
            Some(k) => Ok(k + 2),
            None => Err(true),
        }
    }

    fn tok(&mut self, kind: Tok, len: usize, text: (usize, usize)) -> Token {
        let start = self.pos;
        self.pos += len;
        Token {
            kind,
            range: TextRange::from_usize(start, self.pos),
            text: TextRange::from_usize(text.0, text.1),
            unescaped: None,
            comment: None,
            php_line: self.php_line,
        }
    }

    fn simple(&mut self, kind: Tok, len: usize) -> Token {
        let p = self.pos;
        self.tok(kind, len, (p, p + len))
    }

    fn eof(&mut self) -> Token {
        let p = self.pos;
        self.tok(Tok::End, 0, (p, p))
    }

    /// Zend returns 0 here and the input is over as far as the parser knows; the rest of
    /// the window stays unconsumed.
    fn end_here(&mut self) -> Token {
        self.eof()
    }

    fn label_text(&self, s: usize, e: usize) -> (usize, usize) {
        let mut a = s;
        let mut b = e;
        while a < b && matches!(self.text[a], b' ' | b'\t' | b'\n' | b'\r') {
            a += 1;
        }
        while b > a && matches!(self.text[b - 1], b' ' | b'\t' | b'\n' | b'\r') {
            b -= 1;
        }
        (a, b)
    }

    /// Put the scanner back in the initial state at `pos` (error recovery).
    pub(crate) fn reset_at(&mut self, pos: usize) {
        self.pos = pos.min(self.end);
        self.state = State::Initial;
        self.stack.clear();
    }

    /// The next token.
    pub(crate) fn next_token(&mut self) -> Token {
        let p = self.pos;
        if p >= self.end {
            if self.state == State::Value {
                self.state = State::Initial;
                return self.simple(Tok::Eol, 0);
            }
            return self.eof();
        }
        if p == 0 && self.end > 3 && self.text.starts_with(b"\xef\xbb\xbf") {
            return self.simple(Tok::Trivia, 3);
        }
        match self.state {
            State::Initial => self.initial(p),
            State::Value => self.value(p),
            State::SectionValue | State::Offset => self.section_or_offset(p),
            State::DoubleQuotes => self.double_quotes(p),
            State::VarName => self.varname(p),
        }
    }

    fn initial(&mut self, p: usize) -> Token {
        let c = self.text[p];
        if c == b'[' {
            self.state = State::SectionValue;
            return self.simple(Tok::Section, 1);
        }
        let mut label = 0;
        while self.at(p + label).is_some_and(is_label) {
            label += 1;
        }
        // Candidates, longest wins, ties to the earlier rule.
        let offset = if label > 0 && self.at(p + label) == Some(b'[') {
            label + 1 + self.blanks(p + label + 1)
        } else {
            0
        };
        let boolw = self.bool_word(p);
        let b = self.blanks(p);
        let eq = if self.at(p + b) == Some(b'=') {
            b + 1 + self.blanks(p + b + 1)
        } else {
            0
        };
        let nl = {
            let n = self.newline(p + b);
            if n > 0 {
                b + n
            } else {
                0
            }
        };
        let comment = self.comment(p);
        let comment_len = match comment {
            Some(Ok((_, l))) => l,
            _ => 0,
        };
        if matches!(comment, Some(Err(()))) {
            // The comment rule reads to the end of input: re2c returns end of file.
            return self.end_here();
        }
        if label > 0 && p + label >= self.end {
            // LABEL's class includes the NUL past the end, so re2c reads on: end of file.
            return self.end_here();
        }
        let token_char = usize::from(is_token_char(c) && label == 0);
        let best = offset
            .max(boolw.map_or(0, |x| x.1))
            .max(label)
            .max(eq)
            .max(nl)
            .max(comment_len)
            .max(b)
            .max(token_char);
        if best == 0 {
            // A character no rule takes.
            return self.end_here();
        }
        if offset == best {
            self.state = State::Offset;
            let (a, e) = self.label_text(p, p + label);
            return self.tok(Tok::Offset, best, (a, e));
        }
        if let Some((t, l)) = boolw {
            if l == best {
                return self.tok(t, l, (p, p + l));
            }
        }
        if label == best {
            let (a, e) = self.label_text(p, p + label);
            return self.tok(Tok::Label, best, (a, e));
        }
        if eq == best {
            self.state = State::Value;
            return self.tok(Tok::Eq, best, (p + b, p + b + 1));
        }
        if token_char == 1 && best == 1 {
            return self.simple(Tok::Char(c), 1);
        }
        if nl == best {
            self.php_line += 1;
            return self.tok(Tok::Eol, best, (p + b, p + b));
        }
        if comment_len == best {
            self.php_line += 1;
            let mut t = self.tok(Tok::Eol, best, (p, p));
            if let Some(Ok((semi, _))) = comment {
                let mut e = p + best;
                while e > semi && matches!(self.text[e - 1], b'\n' | b'\r') {
                    e -= 1;
                }
                t.comment = Some(TextRange::from_usize(semi, e));
            }
            return t;
        }
        // Blanks Zend eats.
        self.simple(Tok::Trivia, b)
    }

    fn value(&mut self, p: usize) -> Token {
        let c = self.text[p];
        if c == b'\'' {
            return match self.raw(p) {
                Ok(l) => self.tok(Tok::Raw, l, (p + 1, p + l - 1)),
                Err(true) => self.end_here(),
                Err(false) => {
                    // `<ST_VALUE>[^]`: ends the value without a newline.
                    self.state = State::Initial;
                    self.tok(Tok::Eol, 1, (p, p))
                }
            };
        }
        if c == b'$' && self.at(p + 1) == Some(b'{') {
            self.stack.push(State::Value);
            self.state = State::VarName;
            return self.simple(Tok::DollarCurly, 2);
        }
        let b = self.blanks(p);
        let nl = self.newline(p + b);
        let comment = self.comment(p);
        let boolw = self.bool_word(p);
        let cons = self.constant(p);
        let num = self.number(p);
        let vc = self.value_chars(p);
        let op = if b"&|^~()!".contains(&c) {
            1 + self.blanks(p + 1)
        } else {
            0
        };
        let dq = if self.at(p + b) == Some(b'"') {
            b + 1
        } else {
            0
        };
        let nl_len = if nl > 0 { b + nl } else { 0 };
        let comment_len = match comment {
            Some(Ok((_, l))) => l,
            _ => 0,
        };
        if matches!(comment, Some(Err(()))) {
            // The comment rule reads to the end of input: re2c returns end of file.
            return self.end_here();
        }
        let best = [
            boolw.map_or(0, |x| x.1),
            nl_len,
            cons,
            num,
            op,
            usize::from(c == b'='),
            vc,
            dq,
            b,
            comment_len,
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        if best == 0 {
            // `<ST_VALUE>[^]` (a NUL, a `$` that ends the input): ends the value.
            self.state = State::Initial;
            return self.tok(Tok::Eol, 1, (p, p));
        }
        if let Some((t, l)) = boolw {
            if l == best {
                let e = p + l - self.blanks_back(p, p + l);
                return self.tok(t, l, (p, e));
            }
        }
        if nl_len == best {
            self.state = State::Initial;
            self.php_line += 1;
            return self.tok(Tok::Eol, best, (p + b, p + b));
        }
        if cons == best {
            return self.tok(Tok::Constant, best, (p, p + best));
        }
        if num == best {
            return self.tok(Tok::Number, best, (p, p + best));
        }
        if op == best {
            return self.tok(Tok::Op(c), best, (p, p + 1));
        }
        if c == b'=' && best == 1 {
            // `<ST_VALUE>[=]`: yyless(0), back to INITIAL, END_OF_LINE.
            self.state = State::Initial;
            return self.tok(Tok::Eol, 0, (p, p));
        }
        if vc == best {
            return self.tok(Tok::String, best, (p, p + best));
        }
        if dq == best {
            self.stack.push(State::Value);
            self.state = State::DoubleQuotes;
            return self.tok(Tok::DQuote, best, (p + b, p + b + 1));
        }
        if b == best {
            return self.tok(Tok::Whitespace, best, (p, p + best));
        }
        self.state = State::Initial;
        self.php_line += 1;
        let mut t = self.tok(Tok::Eol, best, (p, p));
        if let Some(Ok((semi, _))) = comment {
            let mut e = p + best;
            while e > semi && matches!(self.text[e - 1], b'\n' | b'\r') {
                e -= 1;
            }
            t.comment = Some(TextRange::from_usize(semi, e));
        }
        t
    }

    fn blanks_back(&self, s: usize, e: usize) -> usize {
        let mut j = e;
        while j > s && is_blank(self.text[j - 1]) {
            j -= 1;
        }
        e - j
    }

    fn section_or_offset(&mut self, p: usize) -> Token {
        let c = self.text[p];
        if c == b'\'' {
            return match self.raw(p) {
                Ok(l) => self.tok(Tok::Raw, l, (p + 1, p + l - 1)),
                Err(_) => self.end_here(),
            };
        }
        if c == b'$' && self.at(p + 1) == Some(b'{') {
            self.stack.push(self.state);
            self.state = State::VarName;
            return self.simple(Tok::DollarCurly, 2);
        }
        let b = self.blanks(p);
        let close = if self.state == State::SectionValue {
            if c == b']' {
                let bl = self.blanks(p + 1);
                1 + bl + self.newline(p + 1 + bl)
            } else {
                0
            }
        } else if self.at(p + b) == Some(b']') {
            b + 1
        } else {
            0
        };
        let cons = self.constant(p);
        let num = self.number(p);
        let svc = match self.section_value_chars(p) {
            Ok(l) => l,
            Err(()) => return self.end_here(),
        };
        let dq = if self.at(p + b) == Some(b'"') {
            b + 1
        } else {
            0
        };
        let best = [close, cons, num, svc, dq, b]
            .into_iter()
            .max()
            .unwrap_or(0);
        if best == 0 {
            return self.end_here();
        }
        if close == best {
            let section = self.state == State::SectionValue;
            self.state = State::Initial;
            let rb = if section { p } else { p + b };
            if section {
                // `]` of a section advances PHP's line counter, newline or not.
                self.php_line += 1;
            }
            return self.tok(Tok::RBracket, best, (rb, rb + 1));
        }
        if cons == best {
            return self.tok(Tok::Constant, best, (p, p + best));
        }
        if num == best {
            return self.tok(Tok::Number, best, (p, p + best));
        }
        if svc == best {
            return self.tok(Tok::String, best, (p, p + best));
        }
        if dq == best {
            self.stack.push(self.state);
            self.state = State::DoubleQuotes;
            return self.tok(Tok::DQuote, best, (p + b, p + b + 1));
        }
        self.tok(Tok::Whitespace, best, (p, p + best))
    }

    fn double_quotes(&mut self, p: usize) -> Token {
        let c = self.text[p];
        if c == b'"' {
            self.state = self.stack.pop().unwrap_or(State::Initial);
            let l = 1 + self.blanks(p + 1);
            return self.tok(Tok::DQuote, l, (p, p + 1));
        }
        if c == b'$' && self.at(p + 1) == Some(b'{') {
            self.stack.push(State::DoubleQuotes);
            self.state = State::VarName;
            return self.simple(Tok::DollarCurly, 2);
        }
        // The hand-written loop of `<ST_DOUBLE_QUOTES>[^]`.
        let mut s = p;
        while s < self.end {
            let ch = self.text[s];
            s += 1;
            match ch {
                b'"' => {
                    s -= 1;
                    break;
                }
                b'$' if s < self.end && self.text[s] == b'{' => {
                    s -= 1;
                    break;
                }
                b'\\' if s < self.end => {
                    let escaped = self.text[s];
                    s += 1;
                    // `"C:\path\"`: a backslash-quote at the end of a line closes.
                    if escaped == b'"'
                        && (s >= self.end || self.text[s] == b'\n' || self.text[s] == b'\r')
                    {
                        s -= 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let raw = &self.text[p..s];
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            let ch = raw[i];
            if ch == b'\\' {
                i += 1;
                if i >= raw.len() {
                    out.push(b'\\');
                    continue;
                }
                match raw[i] {
                    b'"' | b'\\' | b'$' => out.push(raw[i]),
                    other => {
                        out.push(b'\\');
                        out.push(other);
                    }
                }
            } else {
                out.push(ch);
            }
            let cur = raw[i];
            if cur == b'\n' || (cur == b'\r' && raw.get(i + 1) != Some(&b'\n')) {
                self.php_line += 1;
            }
            i += 1;
        }
        let mut t = self.tok(Tok::QuotedString, s - p, (p, s));
        t.unescaped = Some(out);
        t
    }

    fn varname(&mut self, p: usize) -> Token {
        if self.text[p] == b'}' {
            self.state = self.stack.pop().unwrap_or(State::Initial);
            return self.simple(Tok::RBrace, 1);
        }
        let mut l = 0;
        while self.at(p + l).is_some_and(is_label) {
            l += 1;
        }
        if l == 0 || p + l >= self.end {
            // No rule matches, or the name runs into the end of input.
            return self.end_here();
        }
        let (a, e) = self.label_text(p, p + l);
        self.tok(Tok::VarName, l, (a, e))
    }
}
