//! The arguments of `gatelint check`.

use super::KindArg;
use std::path::PathBuf;

/// The lowest severity that fails the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Only errors fail the run.
    Error,
    /// Warnings and errors fail the run (the default).
    Warning,
    /// Every finding fails the run.
    Info,
}

/// Arguments of `gatelint check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files and folders to lint; `-` reads stdin (a file, or `nginx -T` output).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format (default: human).
    #[arg(long, value_enum)]
    pub format: Option<crate::output::OutputFormat>,
    /// Print the fixes as a unified diff instead of writing them.
    #[arg(long)]
    pub diff: bool,
    /// Write the safe fixes to the files.
    #[arg(long)]
    pub fix: bool,
    /// Also apply fixes that change a value (with --fix or --diff).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE,…")]
    pub select: Vec<String>,
    /// Never run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE,…")]
    pub ignore: Vec<String>,
    /// The settings file (default: gatelint.toml or .gatelint.toml found walking up).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Treat every input as this kind of file.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Memory available to PHP-FPM on the host (e.g. 8G).
    #[arg(long, value_name = "SIZE")]
    pub host_memory: Option<String>,
    /// Number of CPUs of the host.
    #[arg(long, value_name = "N")]
    pub host_cpus: Option<u32>,
    /// The lowest severity that makes the run exit 1.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// The path that the buffer read from stdin stands for (editors).
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// The nginx version the configuration targets (e.g. 1.22.1): directives it lacks
    /// are reported.
    #[arg(long, value_name = "VERSION")]
    pub nginx_version: Option<String>,
    /// The nginx prefix that relative includes resolve against.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// The deployment profile: which distribution's stock files (fastcgi_params,
    /// mime.types, …) stand in for those the tree lacks; `none` for none (default: read
    /// from the tree, else debian-12).
    #[arg(long, value_name = "NAME", value_parser = clap::builder::PossibleValuesParser::new(crate::profile::names()))]
    pub profile: Option<String>,
    /// The largest file read, in bytes or with a unit (64M); larger files are reported
    /// and not read.
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,
}
