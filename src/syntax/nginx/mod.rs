//! The nginx configuration syntax: a hand-written lexer following nginx's
//! `ngx_conf_read_token`, a grammar over its tokens, and include expansion.
//!
//! - [`parse`] turns one file's bytes into a lossless [`NginxTree`] (no includes).
//! - [`load`] / [`load_from`] read a main file and every file it includes into a
//!   [`Files`](crate::source::Files) store and return an [`NginxConfig`]; [`walk`] does the
//!   same file by file without keeping anything (what `gatelint parse` uses).
//! - [`crossplane`] prints a configuration as `crossplane parse` does; [`dump`] prints the
//!   lossless tree as JSON.
//!
//! Lossless means: every byte of the file is in exactly one token (word, `;`, `{`, `}`,
//! comment, Lua body) or in the whitespace between tokens, so [`NginxTree::pieces`] gives
//! the file back byte for byte for any input, valid or not.

pub mod crossplane;
mod crossplane_table;
pub mod dump;
mod grammar;
pub mod include;
pub mod lexer;
mod read_ahead;
mod tree;

pub use grammar::{parse, parse_directives};
pub use include::{
    load, load_from, walk, CachingSource, ConfigFile, FileSource, FsSource, IncludeEdge,
    IncludeError, MemorySource, NginxConfig, PlainOpen, Prepare, Prepared, SharedOpen, VisitedFile,
    WalkOptions, WalkResult,
};
pub use lexer::{Quote, Token, TokenKind};
pub use tree::{
    Children, Directive, DirectiveEnd, DirectiveId, DirectiveRef, NginxTree, Piece, PieceKind,
    WordRef,
};

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
