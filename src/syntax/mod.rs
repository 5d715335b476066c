//! Lossless syntax trees: every byte of an input file belongs to exactly one token or trivia.

pub mod ini;
pub mod nginx;
