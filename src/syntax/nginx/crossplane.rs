//! Print a configuration as `crossplane parse FILE` (PyPI crossplane 0.5.8,
//! <https://github.com/nginxinc/crossplane>) prints it: one compact JSON line with
//! `status`, `errors` and `config[]` (`file`, `status`, `errors`, `parsed`), statements with
//! `directive`, `line`, `args`, `includes` and `block`.
//!
//! Mirrored: the key order and compact separators of Python's `json.dumps` with
//! `ensure_ascii` (non-ASCII as `\uXXXX`); file paths joined as `os.path.join(dirname(main),
//! pattern)`; files listed once, breadth first, in the order includes are met; globs sorted;
//! a missing literal include as `[Errno 2] No such file or directory: 'PATH'`; `if`
//! arguments with the outer parentheses stripped; a `*_by_lua_block` body as one argument;
//! comments left out; a file with a syntax error listed with `parsed: []`, its includes
//! after the error not followed.
//!
//! Not mirrored, on purpose: argument values are nginx's (crossplane keeps backslashes
//! inside quotes, splits at NBSP and other Unicode spaces, glues `${a} always` into one
//! argument, ends a token at `}` and misreads Lua long brackets); crossplane's analyzer
//! (its table of directive contexts and argument counts, which drops statements it
//! rejects) is not run, so its `"X" directive is not allowed here` and `invalid number of
//! arguments` errors do not appear; syntax error wording is nginx's.

use super::include::{walk, FileSource, VisitedFile, WalkOptions, WalkResult};
use super::tree::{DirectiveEnd, DirectiveRef, NginxTree};
use crate::source::LineIndex;
use std::io::{self, Write};
use std::path::Path;

/// One error as crossplane reports it.
#[derive(Clone, Debug)]
struct CpError {
    message: String,
    line: Option<u32>,
}

/// Print the crossplane JSON for `main` and its includes. Returns whether the status is
/// `ok`; fails when the main file cannot be read or `out` fails.
pub fn write_crossplane(
    main: &Path,
    prefix: Option<&Path>,
    source: &mut dyn FileSource,
    out: &mut dyn Write,
) -> io::Result<bool> {
    let options = WalkOptions {
        stop_at_first_error: true,
    };
    // Pass 1: every file's errors (the header comes first in crossplane's output and the
    // trees are not kept, so the files are parsed twice; parsing is cheap).
    let mut per_file: Vec<Vec<CpError>> = Vec::new();
    let mut pending_includes: Vec<(usize, u32, String)> = Vec::new();
    let result = {
        let mut syntax: Vec<(usize, CpError)> = Vec::new();
        let r = walk(main, prefix, source, options, &mut |v: VisitedFile| {
            if let Some(e) = v.tree.errors.first() {
                let li = LineIndex::new(&v.text);
                let line = li.line_of(e.range.start) as u32 + 1;
                syntax.push((
                    v.index,
                    CpError {
                        message: format!("{} in {}:{}", e.message, v.path.display(), line),
                        line: Some(line),
                    },
                ));
            }
        })?;
        per_file.resize(r.paths.len(), Vec::new());
        for inc in &r.includes {
            if inc.error.is_some() {
                pending_includes.push((inc.from, inc.line, python_missing(&inc.resolved)));
            }
        }
        for (from, line, msg) in pending_includes.drain(..) {
            per_file[from].push(CpError {
                message: msg,
                line: Some(line),
            });
        }
        for (i, e) in syntax {
            per_file[i].push(e);
        }
        for u in &r.unreadable {
            per_file[u.index].push(CpError {
                message: python_unreadable(&u.path),
                line: None,
            });
        }
        r
    };

    let ok = per_file.iter().all(Vec::is_empty);
    out.write_all(b"{\"status\":")?;
    out.write_all(if ok { b"\"ok\"" } else { b"\"failed\"" })?;
    out.write_all(b",\"errors\":[")?;
    let mut first = true;
    for (i, errs) in per_file.iter().enumerate() {
        for e in errs {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(b"{\"file\":")?;
            py_str(out, &result.paths[i].display().to_string())?;
            out.write_all(b",\"error\":")?;
            py_str(out, &e.message)?;
            write_line(out, e.line)?;
            out.write_all(b"}")?;
        }
    }
    out.write_all(b"],\"config\":[")?;

    // Pass 2: print file by file.
    let mut written = 0usize;
    let mut io_err: Option<io::Error> = None;
    let second = walk(main, prefix, source, options, &mut |v: VisitedFile| {
        if io_err.is_some() {
            return;
        }
        let r = (|| -> io::Result<()> {
            while written < v.index {
                write_config_start(out, &result, &per_file, written)?;
                out.write_all(b"[]}")?;
                written += 1;
            }
            write_config_start(out, &result, &per_file, v.index)?;
            if per_file[v.index]
                .iter()
                .any(|e| e.line.is_none() || is_syntax(e))
            {
                out.write_all(b"[]}")?;
            } else {
                write_parsed(out, &v, &result)?;
                out.write_all(b"}")?;
            }
            written += 1;
            Ok(())
        })();
        if let Err(e) = r {
            io_err = Some(e);
        }
    })?;
    if let Some(e) = io_err {
        return Err(e);
    }
    while written < second.paths.len().min(result.paths.len()) {
        write_config_start(out, &result, &per_file, written)?;
        out.write_all(b"[]}")?;
        written += 1;
    }
    out.write_all(b"]}\n")?;
    Ok(ok)
}

fn is_syntax(e: &CpError) -> bool {
    !e.message.starts_with("[Errno ")
}

fn write_line(out: &mut dyn Write, line: Option<u32>) -> io::Result<()> {
    match line {
        Some(l) => write!(out, ",\"line\":{l}"),
        None => out.write_all(b",\"line\":null"),
    }
}

fn write_config_start(
    out: &mut dyn Write,
    result: &WalkResult,
    per_file: &[Vec<CpError>],
    i: usize,
) -> io::Result<()> {
    if i > 0 {
        out.write_all(b",")?;
    }
    out.write_all(b"{\"file\":")?;
    py_str(out, &result.paths[i].display().to_string())?;
    let errs = &per_file[i];
    out.write_all(if errs.is_empty() {
        b",\"status\":\"ok\",\"errors\":["
    } else {
        b",\"status\":\"failed\",\"errors\":["
    })?;
    for (k, e) in errs.iter().enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"error\":")?;
        py_str(out, &e.message)?;
        write_line(out, e.line)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"],\"parsed\":")
}

/// The statements of one file, blocks nested with an explicit stack.
fn write_parsed(out: &mut dyn Write, v: &VisitedFile, result: &WalkResult) -> io::Result<()> {
    let tree: &NginxTree = &v.tree;
    let text = &v.text[..];
    let li = LineIndex::new(text);
    let includes = &result.includes[v.includes.clone()];
    let mut inc_iter = includes.iter().peekable();
    // Open blocks: the id one past their last descendant.
    let mut stack: Vec<u32> = Vec::new();
    let mut need_comma = false;
    out.write_all(b"[")?;
    for d in tree.all(text) {
        while stack.last().is_some_and(|&end| d.id().0 >= end) {
            stack.pop();
            out.write_all(b"]}")?;
            need_comma = true;
        }
        if need_comma {
            out.write_all(b",")?;
        }
        need_comma = true;
        out.write_all(b"{\"directive\":")?;
        py_str(out, &d.name())?;
        let line = li.line_of(d.name_word().range().start) + 1;
        write!(out, ",\"line\":{line},\"args\":[")?;
        let args = crossplane_args(&d);
        for (k, a) in args.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            py_str(out, a)?;
        }
        out.write_all(b"]")?;
        while inc_iter.peek().is_some_and(|i| i.directive.0 < d.id().0) {
            inc_iter.next();
        }
        if let Some(inc) = inc_iter.peek().filter(|i| i.directive == d.id()) {
            out.write_all(b",\"includes\":[")?;
            for (k, t) in inc.targets.iter().enumerate() {
                if k > 0 {
                    out.write_all(b",")?;
                }
                write!(out, "{t}")?;
            }
            out.write_all(b"]")?;
            inc_iter.next();
        }
        if let DirectiveEnd::Block { .. } = d.end() {
            out.write_all(b",\"block\":[")?;
            need_comma = false;
            if d.subtree_end().0 == d.id().0 + 1 {
                out.write_all(b"]}")?;
                need_comma = true;
            } else {
                stack.push(d.subtree_end().0);
            }
        } else {
            out.write_all(b"}")?;
        }
    }
    while stack.pop().is_some() {
        out.write_all(b"]}")?;
    }
    out.write_all(b"]")
}

/// The arguments as crossplane lists them.
fn crossplane_args(d: &DirectiveRef<'_>) -> Vec<String> {
    let mut args: Vec<String> = d.args().map(|a| a.as_str().into_owned()).collect();
    if let Some(body) = d.lua_body() {
        args.push(String::from_utf8_lossy(body).into_owned());
    }
    if d.is("if") {
        prepare_if_args(&mut args);
    }
    args
}

/// crossplane's `_prepare_if_args`: strip the outer parentheses of an `if` condition.
pub fn prepare_if_args(args: &mut Vec<String>) {
    let (Some(first), Some(last)) = (args.first(), args.last()) else {
        return;
    };
    if !(first.starts_with('(') && last.ends_with(')')) {
        return;
    }
    let f = args[0][1..].trim_start_matches(py_space).to_string();
    args[0] = f;
    let n = args.len() - 1;
    let l = &args[n];
    let l = l[..l.len() - 1].trim_end_matches(py_space).to_string();
    args[n] = l;
    let start = usize::from(args[0].is_empty());
    let end = args.len() - usize::from(args[args.len() - 1].is_empty());
    if start >= end {
        args.clear();
    } else {
        args.truncate(end);
        args.drain(..start);
    }
}

/// Python's `str.isspace` (what `lstrip`/`rstrip` remove).
fn py_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1c}'..='\u{1f}')
}

/// Python's message for a missing include: `[Errno 2] No such file or directory: 'PATH'`.
fn python_missing(path: &Path) -> String {
    format!(
        "[Errno 2] No such file or directory: {}",
        py_repr(&path.display().to_string())
    )
}

fn python_unreadable(path: &Path) -> String {
    format!(
        "[Errno 21] Is a directory: {}",
        py_repr(&path.display().to_string())
    )
}

/// Python's `repr` of a string (the common cases: quote choice and backslash escapes).
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A JSON string as Python's `json.dumps` writes it with `ensure_ascii=True`.
pub fn py_str(out: &mut dyn Write, s: &str) -> io::Result<()> {
    let mut buf = Vec::with_capacity(s.len() + 2);
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            '\u{8}' => buf.extend_from_slice(b"\\b"),
            '\u{c}' => buf.extend_from_slice(b"\\f"),
            ' '..='~' => buf.push(c as u8),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    buf.extend_from_slice(format!("\\u{:04x}", u).as_bytes());
                }
            }
        }
    }
    buf.push(b'"');
    out.write_all(&buf)
}
