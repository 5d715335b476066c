//! `gatelint parse FILE`: dump one file's syntax tree.

use super::{KindArg, ParseArgs, EXIT_FAILURE};
use std::io::Write;
use std::path::Path;

/// Run `gatelint parse`.
pub fn run(args: &ParseArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let kind = args.kind.unwrap_or_else(|| guess_kind(&args.file));
    match kind {
        KindArg::Nginx => super::parse_nginx::run(args, out, err),
        KindArg::Fpm | KindArg::PhpIni => super::parse_ini::run(args, kind, out, err),
    }
}

/// Guess a file's kind as `check` does: by name and place, then by content; nginx when
/// nothing tells.
fn guess_kind(path: &Path) -> KindArg {
    use crate::discover::{classify_by_content, classify_by_name};
    use crate::source::FileKind;
    let kind = classify_by_name(path).or_else(|| {
        crate::source::read_config(path)
            .ok()
            .and_then(|t| classify_by_content(&t))
    });
    match kind {
        Some(FileKind::Fpm) => KindArg::Fpm,
        Some(FileKind::PhpIni) => KindArg::PhpIni,
        Some(FileKind::Nginx) | None => KindArg::Nginx,
    }
}

/// Report that a file could not be read, and return the failure exit code.
pub fn unreadable(path: &Path, e: &std::io::Error, err: &mut dyn Write) -> i32 {
    let _ = writeln!(err, "error: cannot read {}: {e}", path.display());
    EXIT_FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_kinds_from_names() {
        assert_eq!(
            guess_kind(Path::new("etc/php/8.2/fpm/php.ini")),
            KindArg::PhpIni
        );
        assert_eq!(
            guess_kind(Path::new("etc/php/8.2/fpm/pool.d/www.conf")),
            KindArg::Fpm
        );
        assert_eq!(guess_kind(Path::new("etc/php-fpm.conf")), KindArg::Fpm);
        assert_eq!(
            guess_kind(Path::new("etc/nginx/nginx.conf")),
            KindArg::Nginx
        );
    }
}
