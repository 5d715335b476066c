//! The nginx tokenizer, a byte-for-byte port of the rules of nginx's `ngx_conf_read_token`
//! (src/core/ngx_conf_file.c, <https://github.com/nginx/nginx/blob/master/src/core/ngx_conf_file.c>).
//!
//! Rules mirrored exactly:
//! - whitespace is only space, tab, CR and LF (NBSP, VT, FF are token bytes);
//! - `#` starts a comment and `"`/`'` a quoted string only at the start of a token;
//! - after a closing quote the next byte must be whitespace, `;`, `{` or `)`, else nginx
//!   says `unexpected "X"`;
//! - a backslash escapes the next byte both inside and outside quotes;
//! - `;` and `{` end an unquoted token, `}` does not (`a}b` is one token), and `{` right
//!   after `$` stays in the token (`${var}`);
//! - nginx reads the file through a 4096-byte buffer and refuses a token that does not fit
//!   (`too long parameter`); the exact condition is reproduced by tracking nginx's `start`
//!   pointer, see [`Lexer::advance_start`].
//!
//! Whitespace is not emitted: it is the gap between tokens, which keeps the token list small.

use crate::diagnostic::SyntaxError;
use crate::source::TextRange;

/// nginx's `NGX_CONF_BUFFER`: a token must fit in this many bytes.
pub const NGX_CONF_BUFFER: usize = 4096;

/// How a word was quoted in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quote {
    /// A bare word.
    None,
    /// `"…"`.
    Double,
    /// `'…'`.
    Single,
}

impl Quote {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Quote::None => "none",
            Quote::Double => "double",
            Quote::Single => "single",
        }
    }
}

/// The kind of a lexical token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A word (directive name or argument), quoted or not.
    Word,
    /// `;`.
    Semicolon,
    /// `{`.
    LBrace,
    /// `}`.
    RBrace,
    /// A `#` comment, without its line end.
    Comment,
    /// The raw body of a `*_by_lua_block`, between its braces.
    LuaBody,
}

/// One token: a kind and the bytes it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// The bytes, quotes included for quoted words.
    pub range: TextRange,
    /// The quoting of a word ([`Quote::None`] for other kinds).
    pub quote: Quote,
    /// True when a word holds a backslash escape nginx decodes (`\"`, `\'`, `\\`, `\t`,
    /// `\r`, `\n`), so its value differs from its raw bytes. Other backslashes (`\.` of a
    /// regex) stay as written and leave it false.
    pub escaped: bool,
    /// True when a quoted word lacks its closing quote (end of file came first).
    pub unterminated: bool,
}

impl Token {
    fn new(kind: TokenKind, start: usize, end: usize) -> Token {
        Token {
            kind,
            range: TextRange::from_usize(start, end),
            quote: Quote::None,
            escaped: false,
            unterminated: false,
        }
    }
}

/// Byte classes of the unquoted-token scanner: 1 = ends or changes the token state.
static UNQUOTED_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b' ' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[b';' as usize] = true;
    t[b'{' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'$' as usize] = true;
    t
};

/// True for nginx's four whitespace bytes.
#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The tokenizer. The grammar pulls tokens with [`Lexer::next_token`] and, after the `{`
/// of a `*_by_lua_block`, asks for the raw Lua body with [`Lexer::lua_body`].
pub struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    /// nginx's `start` pointer: the first byte of the token being read.
    start: usize,
    /// The `start` value that already produced a `too long parameter` error.
    reported_start: usize,
    /// Quote state at the moment `start` was set, for the wording of the length error.
    start_quote: Quote,
    /// The byte at `pos` is whitespace that nginx consumes without moving `start`
    /// (right after a quoted token or after the byte that ended an unquoted token).
    skip_update: bool,
    /// The last token was a quoted word: the next byte must be a separator.
    need_space: bool,
    /// Errors found so far.
    pub errors: Vec<SyntaxError>,
}

impl<'a> Lexer<'a> {
    /// A lexer over `text`.
    pub fn new(text: &'a [u8]) -> Self {
        Lexer {
            text,
            pos: 0,
            start: 0,
            reported_start: usize::MAX,
            start_quote: Quote::None,
            skip_update: false,
            need_space: false,
            errors: Vec::new(),
        }
    }

    /// The current byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Record that nginx reads the byte at `read_pos` while its `start` pointer is unchanged,
    /// then move `start` to `new_start`. nginx refills its 4096-byte buffer when it runs out;
    /// if `start` has not moved since the previous refill the token cannot fit and nginx
    /// stops with `too long parameter`. That happens exactly when a byte at
    /// `start + 4096` (inside the file) is read with `start` unchanged.
    #[inline]
    fn advance_start(&mut self, read_pos: usize, new_start: usize, new_quote: Quote) {
        self.check_long(read_pos);
        self.start = new_start;
        self.start_quote = new_quote;
    }

    #[inline]
    fn check_long(&mut self, read_pos: usize) {
        if read_pos >= self.start + NGX_CONF_BUFFER
            && self.start + NGX_CONF_BUFFER < self.text.len()
        {
            self.report_long();
        }
    }

    #[cold]
    fn report_long(&mut self) {
        if self.reported_start == self.start {
            return;
        }
        self.reported_start = self.start;
        let at = self.start;
        let message = match self.start_quote {
            Quote::Double => {
                "too long parameter, probably missing terminating \"\"\" character".to_string()
            }
            Quote::Single => {
                "too long parameter, probably missing terminating \"'\" character".to_string()
            }
            Quote::None => {
                let end = (at + 10).min(self.text.len());
                format!(
                    "too long parameter \"{}...\" started",
                    String::from_utf8_lossy(&self.text[at..end])
                )
            }
        };
        self.errors.push(SyntaxError::new(
            TextRange::from_usize(at, (at + NGX_CONF_BUFFER).min(self.text.len())),
            message,
        ));
    }

    /// The next token, or `None` at the end of the text.
    pub fn next_token(&mut self) -> Option<Token> {
        let text = self.text;
        let len = text.len();
        if self.need_space {
            self.need_space = false;
            if self.pos < len {
                let c = text[self.pos];
                if is_space(c) {
                    // nginx: need_space + whitespace -> last_space, no `start` update.
                    self.skip_update = true;
                } else if c == b';' || c == b'{' || c == b')' {
                    // handled below like any token start
                } else {
                    self.errors.push(SyntaxError::new(
                        TextRange::from_usize(self.pos, self.pos + char_len(text, self.pos)),
                        format!("unexpected \"{}\"", display_byte(text, self.pos)),
                    ));
                }
            }
        }
        // Whitespace (nginx's `last_space` state).
        if self.skip_update && self.pos < len && is_space(text[self.pos]) {
            // nginx reads this byte with `start` unchanged, then leaves `start` alone.
            self.check_long(self.pos);
            self.pos += 1;
        }
        self.skip_update = false;
        if self.pos < len && is_space(text[self.pos]) {
            let first = self.pos;
            self.check_long(first);
            while self.pos < len && is_space(text[self.pos]) {
                self.pos += 1;
            }
            self.start = self.pos - 1;
            self.start_quote = Quote::None;
        }
        if self.pos >= len {
            if len > 0 {
                self.check_long(len - 1);
            }
            return None;
        }
        let at = self.pos;
        let c = text[at];
        match c {
            b';' | b'{' | b'}' => {
                // The byte ends nginx's read_token call; the next call starts after it.
                self.advance_start(at, at + 1, Quote::None);
                self.pos = at + 1;
                let kind = match c {
                    b';' => TokenKind::Semicolon,
                    b'{' => TokenKind::LBrace,
                    _ => TokenKind::RBrace,
                };
                Some(Token::new(kind, at, at + 1))
            }
            b'#' => {
                self.advance_start(at, at, Quote::None);
                let end = match text[at..].iter().position(|&b| b == b'\n') {
                    Some(i) => at + i,
                    None => len,
                };
                self.pos = end;
                if end < len {
                    // The LF is read while `start` still points at `#`.
                    self.check_long(end);
                }
                Some(Token::new(TokenKind::Comment, at, end))
            }
            b'"' | b'\'' => Some(self.quoted(at, c)),
            _ => Some(self.unquoted(at)),
        }
    }

    /// A quoted word starting at the quote `at`.
    fn quoted(&mut self, at: usize, q: u8) -> Token {
        let text = self.text;
        let len = text.len();
        let quote = if q == b'"' {
            Quote::Double
        } else {
            Quote::Single
        };
        self.advance_start(at, at + 1, quote);
        let mut i = at + 1;
        let mut escaped = false;
        let mut closed = false;
        while i < len {
            let b = text[i];
            if b == b'\\' {
                escaped |= decodes(text.get(i + 1));
                i += 2;
                continue;
            }
            if b == q {
                closed = true;
                break;
            }
            i += 1;
        }
        let end = if closed { i + 1 } else { len };
        self.pos = end;
        let mut tok = Token::new(TokenKind::Word, at, end);
        tok.quote = quote;
        tok.escaped = escaped;
        if closed {
            // The closing quote is read with `start` at the content; after it nginx is
            // in `need_space` and `start` keeps its value.
            self.check_long(i);
            self.start_quote = Quote::None;
            self.need_space = true;
        } else {
            tok.unterminated = true;
            if len > 0 {
                self.check_long(len - 1);
            }
        }
        tok
    }

    /// An unquoted word starting at `at`.
    fn unquoted(&mut self, at: usize) -> Token {
        let text = self.text;
        let len = text.len();
        self.advance_start(at, at, Quote::None);
        let mut escaped = false;
        let mut variable = false;
        let mut i = at;
        // The first byte: `\` escapes the next one, `$` may be followed by `{`.
        match text[i] {
            b'\\' => {
                escaped |= decodes(text.get(i + 1));
                i += 2;
            }
            b'$' => {
                variable = true;
                i += 1;
            }
            _ => i += 1,
        }
        loop {
            // Four ordinary bytes a step while they last (most words are runs of them),
            // then one at a time up to the byte that ends or changes the token.
            while let Some(four) = text.get(i..i + 4) {
                let special = UNQUOTED_SPECIAL[four[0] as usize]
                    | UNQUOTED_SPECIAL[four[1] as usize]
                    | UNQUOTED_SPECIAL[four[2] as usize]
                    | UNQUOTED_SPECIAL[four[3] as usize];
                if special {
                    break;
                }
                variable = false;
                i += 4;
            }
            while i < len && !UNQUOTED_SPECIAL[text[i] as usize] {
                variable = false;
                i += 1;
            }
            if i >= len {
                break;
            }
            let b = text[i];
            if b == b'{' && variable {
                i += 1;
                continue;
            }
            variable = false;
            match b {
                b'\\' => {
                    escaped |= decodes(text.get(i + 1));
                    i += 2;
                }
                b'$' => {
                    variable = true;
                    i += 1;
                }
                _ => break,
            }
        }
        let end = i.min(len);
        self.pos = end;
        if end < len {
            // The terminator is read with `start` at the token.
            self.check_long(end);
            if is_space(text[end]) {
                self.skip_update = true;
                // nginx reads the byte after the terminator before moving `start`.
                if end + 1 < len {
                    self.check_long(end + 1);
                }
            }
        } else if len > 0 {
            self.check_long(len - 1);
        }
        let mut tok = Token::new(TokenKind::Word, at, end);
        tok.escaped = escaped;
        tok
    }

    /// Scan the raw Lua body that follows the `{` of a `*_by_lua_block` (the lexer stands
    /// right after that brace). Returns the body and the closing brace, or `None` for the
    /// brace when the file ends first. Follows the token rules of lua-nginx-module's block
    /// lexer: strings with backslash escapes, long brackets `[[…]]`/`[==[…]==]`, `--`
    /// comments and `--[[…]]` long comments; braces count only outside them.
    pub fn lua_body(&mut self, open: TextRange) -> (TextRange, Option<TextRange>) {
        let text = self.text;
        let len = text.len();
        self.need_space = false;
        self.skip_update = false;
        let body_start = self.pos;
        let mut i = body_start;
        let mut depth: u32 = 1;
        let mut failed: Option<SyntaxError> = None;
        while i < len {
            match text[i] {
                b'{' => {
                    depth += 1;
                    i += 1;
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        self.start = i + 1;
                        self.start_quote = Quote::None;
                        return (
                            TextRange::from_usize(body_start, i),
                            Some(TextRange::from_usize(i, i + 1)),
                        );
                    }
                    i += 1;
                }
                q @ (b'"' | b'\'') => {
                    i += 1;
                    while i < len && text[i] != q {
                        if text[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b'-' if text.get(i + 1) == Some(&b'-') => {
                    if let Some(level) = long_bracket_level(text, i + 2) {
                        match find_long_close(text, i + 2 + level + 2, level) {
                            Some(e) => i = e,
                            None => {
                                failed = Some(long_bracket_error(i, len, level));
                                i = len;
                            }
                        }
                    } else {
                        i = match text[i..].iter().position(|&b| b == b'\n') {
                            Some(n) => i + n,
                            None => len,
                        };
                    }
                }
                b'[' => {
                    if let Some(level) = long_bracket_level(text, i) {
                        match find_long_close(text, i + level + 2, level) {
                            Some(e) => i = e,
                            None => {
                                failed = Some(long_bracket_error(i, len, level));
                                i = len;
                            }
                        }
                    } else {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        self.pos = len;
        self.start = len;
        self.errors.push(failed.unwrap_or_else(|| {
            SyntaxError::new(
                open,
                "unexpected end of file, expecting terminating characters for lua code block",
            )
        }));
        (TextRange::from_usize(body_start, len), None)
    }
}

/// The level (number of `=`) of a Lua opening long bracket `[=*[` at `i`, if one is there.
fn long_bracket_level(text: &[u8], i: usize) -> Option<usize> {
    if text.get(i) != Some(&b'[') {
        return None;
    }
    let mut j = i + 1;
    while text.get(j) == Some(&b'=') {
        j += 1;
    }
    if text.get(j) == Some(&b'[') {
        Some(j - i - 1)
    } else {
        None
    }
}

/// The offset after the closing long bracket `]=*]` of `level`, searching from `from`.
fn find_long_close(text: &[u8], from: usize, level: usize) -> Option<usize> {
    let mut i = from;
    while i < text.len() {
        if text[i] == b']' {
            let mut j = i + 1;
            while j < text.len() && text[j] == b'=' {
                j += 1;
            }
            if j - i - 1 == level && text.get(j) == Some(&b']') {
                return Some(j + 1);
            }
            i = if j > i + 1 { j } else { i + 1 };
            continue;
        }
        i += 1;
    }
    None
}

fn long_bracket_error(at: usize, len: usize, level: usize) -> SyntaxError {
    let close = format!("]{}]", "=".repeat(level));
    SyntaxError::new(
        TextRange::from_usize(at, len),
        format!(
            "Lua code block missing the closing long bracket \"{close}\", the inlined Lua code may be too long"
        ),
    )
}

/// The length of the UTF-8 character at `i` (1 for an invalid byte), for error ranges.
fn char_len(text: &[u8], i: usize) -> usize {
    let b = text[i];
    let n = if b < 0x80 {
        1
    } else if b >= 0xF0 {
        4
    } else if b >= 0xE0 {
        3
    } else if b >= 0xC0 {
        2
    } else {
        1
    };
    let n = n.min(text.len() - i);
    if std::str::from_utf8(&text[i..i + n]).is_ok() {
        n
    } else {
        1
    }
}

/// The byte at `i` as nginx prints it with `%c`: one byte. A non-ASCII byte is shown as
/// the whole UTF-8 character when it starts one, else as a replacement character.
fn display_byte(text: &[u8], i: usize) -> String {
    String::from_utf8_lossy(&text[i..i + char_len(text, i)]).into_owned()
}

/// The byte a backslash followed by `next` decodes to, when it is an escape nginx decodes:
/// `\"` `\'` `\\` lose the backslash, `\t` `\r` `\n` become control characters.
fn escaped_byte(next: u8) -> Option<u8> {
    match next {
        b'"' | b'\'' | b'\\' => Some(next),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'n' => Some(b'\n'),
        _ => None,
    }
}

/// True when a backslash followed by `next` is an escape [`unescape`] decodes.
fn decodes(next: Option<&u8>) -> bool {
    next.is_some_and(|&b| escaped_byte(b).is_some())
}

/// Decode a word's bytes as nginx does: `\"` `\'` `\\` lose the backslash, `\t` `\r` `\n`
/// become control characters, any other backslash stays. `content` excludes the quotes.
pub fn unescape(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut i = 0;
    while i < content.len() {
        let b = content[i];
        if b == b'\\' {
            if let Some(decoded) = content.get(i + 1).and_then(|&n| escaped_byte(n)) {
                out.push(decoded);
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}
