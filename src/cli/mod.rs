//! The command line: clap definitions and the subcommands.

pub mod check;
pub mod check_args;
mod parse;
mod parse_ini;
mod parse_nginx;
pub mod rules;

use clap::{Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

/// Exit code: nothing at or above the failure threshold.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings (or syntax errors for `parse`).
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: the run itself failed.
pub const EXIT_FAILURE: i32 = 2;

/// Finds the nginx, PHP-FPM and php.ini settings that make PHP sites answer 502 Bad Gateway.
#[derive(Debug, Parser)]
#[command(name = "gatelint", version, about, max_term_width = 100)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint files and folders (nginx, PHP-FPM, php.ini) as one stack.
    Check(check_args::CheckArgs),
    /// Parse one file (with its includes) and print its syntax tree.
    Parse(ParseArgs),
    /// List the rules.
    Rules {
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: rules::RulesFormat,
    },
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. `fpm-socket-path-mismatch`.
        rule: String,
    },
}

/// The kind of configuration file, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// nginx configuration.
    Nginx,
    /// PHP-FPM configuration (php-fpm.conf or a pool file).
    Fpm,
    /// php.ini or a conf.d override.
    PhpIni,
}

/// Output formats of `gatelint parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    /// The lossless tree with byte spans.
    Json,
    /// The JSON that `crossplane parse` prints (nginx only).
    Crossplane,
}

/// Arguments of `gatelint parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// The file to parse.
    pub file: PathBuf,
    /// What the file holds; guessed from its name and place when absent.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: ParseFormat,
    /// nginx prefix that relative includes resolve against (default: the file's folder).
    #[arg(long)]
    pub prefix: Option<PathBuf>,
}

/// Set when the process ends as soon as [`run`] returns (the binary), so that a run need
/// not free its model piece by piece: on a big configuration that takes several percent of
/// the run, and the operating system takes the memory back at once.
static EXITS_AFTER_RUN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Say that the process exits right after [`run`] returns (the binary calls this; a library
/// user or a test must not, or each run keeps its memory).
pub fn exit_after_run() {
    EXITS_AFTER_RUN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Give up `value` without freeing it when the process is about to exit, else drop it.
pub(crate) fn release<T>(value: T) {
    if EXITS_AFTER_RUN.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    }
}

/// Run gatelint with `args` (the first is the program name), writing to `out` and `err`;
/// returns the exit code.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_FAILURE
            } else {
                EXIT_OK
            };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                err.write_all(text.as_bytes())
            } else {
                out.write_all(text.as_bytes())
            };
            return code;
        }
    };
    match cli.command {
        Command::Check(args) => {
            use std::io::IsTerminal;
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            check::run(&args, &mut std::io::stdin().lock(), out, err, color)
        }
        Command::Parse(args) => parse::run(&args, out, err),
        Command::Rules { format } => rules::list(format, out),
        Command::Explain { rule } => rules::explain(&rule, out, err),
    }
}

#[cfg(test)]
mod tests;
