//! The grammar over the tokens, following nginx's `ngx_conf_parse`: a directive is words
//! ending in `;`, or words followed by a `{ … }` block.
//!
//! The parser is a loop with an explicit stack of open blocks, not recursive descent and not
//! nom combinators: nesting depth is bounded only by the input, and a recursive parser
//! would let a file of 100,000 `{` overflow the stack. The loop also pulls tokens lazily
//! from the lexer, which it must: after the `{` of a `*_by_lua_block` the bytes are Lua,
//! not nginx, and the lexer is switched to the Lua scanner for the body.
//!
//! Errors never stop the parse: each is recorded with nginx's wording and the parser
//! recovers at the next `;`, `{` or `}`.

use super::lexer::{Lexer, Token, TokenKind};
use super::tree::{DirectiveEnd, DirectiveId, NginxTree};
use crate::diagnostic::SyntaxError;
use crate::source::TextRange;

/// An open block on the stack.
#[derive(Clone, Copy)]
enum Frame {
    /// The block of this directive.
    Directive(DirectiveId),
    /// A stray `{` without a name: its contents go to the enclosing block (kept here, so
    /// finding the parent never scans the stack).
    Stray(Option<DirectiveId>),
}

/// Parse one file's bytes (no include expansion).
pub fn parse(text: &[u8]) -> NginxTree {
    parse_with(text, true)
}

/// Parse one file's bytes without recording the token stream: the tree has directives,
/// words, comments and errors, but no pieces ([`NginxTree::pieces`] is empty). Readers of
/// directives only (a `check` of thousands of files) are spared a list per file.
pub fn parse_directives(text: &[u8]) -> NginxTree {
    parse_with(text, false)
}

fn parse_with(text: &[u8], keep_tokens: bool) -> NginxTree {
    // Offsets are u32: anything longer is refused by `SourceFile::read`; a longer
    // in-memory text is cut to what the tree can address.
    let text = &text[..text.len().min(u32::MAX as usize)];
    let len = text.len() as u32;
    let mut tree = NginxTree {
        bom: text.starts_with(b"\xEF\xBB\xBF"),
        len,
        ..NginxTree::default()
    };
    // Guesses that avoid most reallocations without holding much unused room (for
    // thousands of files that room is memory): typical configurations have about one
    // token per 10 bytes, a word per 15 and a directive per 38.
    if keep_tokens {
        tree.tokens.reserve(text.len() / 9 + 4);
    } else {
        tree.tokens_dropped = true;
    }
    tree.words.reserve(text.len() / 13 + 4);
    tree.directives.reserve(text.len() / 32 + 4);

    let mut lexer = Lexer::new(text);
    let mut errors: Vec<SyntaxError> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Words of the directive being read start at this index of `tree.words`.
    let mut pending = tree.words.len();

    let parent_of = |stack: &[Frame]| -> Option<DirectiveId> {
        match stack.last() {
            Some(Frame::Directive(id)) => Some(*id),
            Some(Frame::Stray(parent)) => *parent,
            None => None,
        }
    };

    while let Some(tok) = lexer.next_token() {
        if keep_tokens {
            tree.tokens.push(tok);
        }
        match tok.kind {
            TokenKind::Word => tree.words.push(tok),
            TokenKind::Comment => tree.comments.push(tok.range),
            TokenKind::LuaBody => {}
            TokenKind::Semicolon => {
                if tree.words.len() == pending {
                    errors.push(SyntaxError::new(tok.range, "unexpected \";\""));
                    continue;
                }
                let parent = parent_of(&stack);
                tree.push_directive(
                    pending,
                    tree.words.len(),
                    DirectiveEnd::Semicolon(tok.range),
                    parent,
                );
                pending = tree.words.len();
            }
            TokenKind::LBrace => {
                if tree.words.len() == pending {
                    errors.push(SyntaxError::new(tok.range, "unexpected \"{\""));
                    let parent = parent_of(&stack);
                    stack.push(Frame::Stray(parent));
                    continue;
                }
                let parent = parent_of(&stack);
                if let Some(p) = parent {
                    if is_handler_block(text, &tree, p) {
                        // nginx hands these blocks' lines to a custom handler, which
                        // refuses a block (ngx_conf_parse: `unexpected "{"`).
                        errors.push(SyntaxError::new(tok.range, "unexpected \"{\""));
                    }
                }
                let name = tree.words[pending];
                let is_lua = is_lua_block_name(text, &name);
                if is_lua {
                    let (body, close) = lexer.lua_body(tok.range);
                    if keep_tokens && !body.is_empty() {
                        tree.tokens.push(lua_token(body));
                    }
                    if let (true, Some(c)) = (keep_tokens, close) {
                        tree.tokens.push(brace_token(c));
                    }
                    tree.push_directive(
                        pending,
                        tree.words.len(),
                        DirectiveEnd::LuaBlock {
                            open: tok.range,
                            body,
                            close,
                        },
                        parent,
                    );
                } else {
                    let id = tree.push_directive(
                        pending,
                        tree.words.len(),
                        DirectiveEnd::Block {
                            open: tok.range,
                            close: None,
                        },
                        parent,
                    );
                    stack.push(Frame::Directive(id));
                }
                pending = tree.words.len();
            }
            TokenKind::RBrace => {
                let mut reported = false;
                if tree.words.len() > pending {
                    errors.push(SyntaxError::new(tok.range, "unexpected \"}\""));
                    reported = true;
                    let parent = parent_of(&stack);
                    tree.push_directive(pending, tree.words.len(), DirectiveEnd::Missing, parent);
                    pending = tree.words.len();
                }
                match stack.pop() {
                    Some(Frame::Directive(id)) => tree.close_block(id, Some(tok.range), len),
                    Some(Frame::Stray(_)) => {}
                    None => {
                        if !reported {
                            errors.push(SyntaxError::new(tok.range, "unexpected \"}\""));
                        }
                    }
                }
            }
        }
    }

    let eof = TextRange::empty(len);
    if tree.words.len() > pending {
        errors.push(SyntaxError::new(
            eof,
            "unexpected end of file, expecting \";\" or \"}\"",
        ));
        let parent = parent_of(&stack);
        tree.push_directive(pending, tree.words.len(), DirectiveEnd::Missing, parent);
    } else if !stack.is_empty() {
        errors.push(SyntaxError::new(
            eof,
            "unexpected end of file, expecting \"}\"",
        ));
    }
    while let Some(frame) = stack.pop() {
        if let Frame::Directive(id) = frame {
            tree.close_block(id, None, len);
        }
    }

    // Lexer errors and grammar errors, in file order (stable for equal offsets).
    let mut all = lexer.errors;
    all.append(&mut errors);
    all.sort_by_key(|e| e.range.start);
    check_unquoted_regex_braces(text, &tree, &mut all);
    tree.errors = all;
    tree
}

/// Blocks whose lines nginx passes to a custom handler (`cf->handler`) instead of looking
/// them up as directives: `map`, `geo`, `types`, `split_clients`, `charset_map`.
fn is_handler_block(text: &[u8], tree: &NginxTree, id: DirectiveId) -> bool {
    let d = tree.directive(text, id);
    let name = d.name_word().value();
    matches!(
        name.as_ref(),
        b"map" | b"geo" | b"types" | b"split_clients" | b"charset_map"
    )
}

/// True when the directive named by `name` is a `*_by_lua_block` (the name decoded, so
/// a quoted `"content_by_lua_block"` counts, as it does for nginx).
fn is_lua_block_name(text: &[u8], name: &Token) -> bool {
    const SUFFIX: &[u8] = b"_by_lua_block";
    let raw = &text[name.range.as_range()];
    if !name.escaped && name.quote == super::lexer::Quote::None {
        return raw.ends_with(SUFFIX);
    }
    let content = match name.quote {
        super::lexer::Quote::None => raw,
        _ if name.unterminated => &raw[1..],
        _ => &raw[1..raw.len().saturating_sub(1).max(1)],
    };
    super::lexer::unescape(content).ends_with(SUFFIX)
}

fn lua_token(body: TextRange) -> Token {
    Token {
        kind: TokenKind::LuaBody,
        range: body,
        quote: super::lexer::Quote::None,
        escaped: false,
        unterminated: false,
    }
}

fn brace_token(r: TextRange) -> Token {
    Token {
        kind: TokenKind::RBrace,
        range: r,
        quote: super::lexer::Quote::None,
        escaped: false,
        unterminated: false,
    }
}

/// nginx accepts `location ~ ^/a{2}$ {` syntactically but reads `{` as the start of the
/// block, so the first "directive" inside is the rest of the regex (`2}$`) and nginx stops
/// with `unknown directive "2}$"`. Report it with nginx's wording plus the cure.
fn check_unquoted_regex_braces(text: &[u8], tree: &NginxTree, errors: &mut Vec<SyntaxError>) {
    // under_handler[i]: directive i sits (at any depth) inside map/types/…, where nginx
    // already refused the `{` itself. Parents precede children in the arena: one pass.
    let mut under_handler: Vec<bool> = Vec::with_capacity(tree.directive_count());
    // Siblings share their parent: its name is decoded once for all of them.
    let mut last_parent: Option<(DirectiveId, bool)> = None;
    for d in tree.all(text) {
        let flag = d.parent().is_some_and(|p| {
            under_handler[p.id().0 as usize]
                || match last_parent {
                    Some((id, handler)) if id == p.id() => handler,
                    _ => {
                        let handler = is_handler_block(text, tree, p.id());
                        last_parent = Some((p.id(), handler));
                        handler
                    }
                }
        });
        under_handler.push(flag);
        let Some(parent) = d.parent() else { continue };
        let DirectiveEnd::Block { open, .. } = parent.end() else {
            continue;
        };
        let name = d.name_word();
        if flag
            || name.range().start != open.end
            || name.quote() != super::lexer::Quote::None
            || !looks_like_quantifier_rest(name.raw())
        {
            continue;
        }
        errors.push(SyntaxError::new(
            name.range(),
            format!(
                "unknown directive \"{}\" (a regular expression that contains \"{{\" must be quoted, e.g. \"^/a{{2}}$\")",
                String::from_utf8_lossy(name.raw())
            ),
        ));
    }
    errors.sort_by_key(|e| e.range.start);
}

/// `2}`, `1,3}`, `,5}…`: what is left of a regex quantifier after nginx split at `{`.
fn looks_like_quantifier_rest(raw: &[u8]) -> bool {
    let Some(close) = raw.iter().position(|&b| b == b'}') else {
        return false;
    };
    let q = &raw[..close];
    !q.is_empty()
        && q.iter().all(|b| b.is_ascii_digit() || *b == b',')
        && q.iter().any(|b| b.is_ascii_digit())
}
