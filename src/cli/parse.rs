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

/// Guess a file's kind from its name and folder.
fn guess_kind(path: &Path) -> KindArg {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let parent = path
        .parent()
        .map(|p| p.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".ini") || name == ".user.ini" {
        KindArg::PhpIni
    } else if name.contains("php-fpm")
        || parent.ends_with("pool.d")
        || parent.ends_with("php-fpm.d")
        || parent.contains("/fpm")
    {
        KindArg::Fpm
    } else {
        KindArg::Nginx
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
