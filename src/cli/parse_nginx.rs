//! `gatelint parse --kind nginx`: print the tree of an nginx file and everything it
//! includes, as gatelint's lossless JSON or as `crossplane parse` prints it.

use super::{ParseArgs, ParseFormat, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};
use crate::syntax::nginx::{crossplane, dump, FsSource};
use std::io::{BufWriter, Write};

/// Parse an nginx file (with its includes) and print its tree. Exit 0 when nothing has a
/// syntax or include error, 1 when something has (all is still printed), 2 when the main
/// file cannot be read.
pub fn run(args: &ParseArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut source = FsSource;
    let mut w = BufWriter::with_capacity(1 << 16, out);
    let result = match args.format {
        ParseFormat::Json => {
            dump::write_json(&args.file, args.prefix.as_deref(), &mut source, &mut w)
        }
        ParseFormat::Crossplane => {
            crossplane::write_crossplane(&args.file, args.prefix.as_deref(), &mut source, &mut w)
        }
    };
    let flushed = w.flush();
    match (result, flushed) {
        (Ok(true), Ok(())) => EXIT_OK,
        (Ok(false), Ok(())) => EXIT_FINDINGS,
        (Err(e), _) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            super::parse::unreadable(&args.file, &e, err)
        }
        (Err(_), _) | (_, Err(_)) => EXIT_FAILURE,
    }
}
