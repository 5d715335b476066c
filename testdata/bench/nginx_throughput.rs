//! In-process throughput of the nginx parser (not a test): parse every file of a folder
//! (e.g. the generated benchmark corpus) many times and print MB/s on one core.
//!
//! `cargo run --release --example nginx_throughput -- DIR [SECONDS]`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().map_or(true, |x| x != "json") {
            out.push(p);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: nginx_throughput DIR [SECONDS]");
        std::process::exit(2);
    };
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let mut paths = Vec::new();
    collect(Path::new(&dir), &mut paths);
    paths.sort();
    let texts: Vec<Vec<u8>> = paths.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = texts.iter().map(Vec::len).sum();
    let mut directives = 0usize;
    let mut errors = 0usize;
    for t in &texts {
        let tree = gatelint::syntax::nginx::parse(t);
        directives += tree.directive_count();
        errors += tree.errors.len();
    }
    // Repeat whole passes; report the best pass and the mean.
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut passes = 0u32;
    while start.elapsed() < budget || passes < 3 {
        let t0 = Instant::now();
        let mut n = 0usize;
        for t in &texts {
            n += std::hint::black_box(gatelint::syntax::nginx::parse(std::hint::black_box(t)))
                .directive_count();
        }
        assert_eq!(n, directives);
        best = best.min(t0.elapsed());
        passes += 1;
    }
    let mean = start.elapsed() / passes;
    let mb = bytes as f64 / 1e6;
    println!(
        "{} files, {:.2} MB, {} directives, {} syntax errors",
        texts.len(),
        mb,
        directives,
        errors
    );
    println!(
        "parse: best {:.2} ms = {:.0} MB/s, mean {:.2} ms = {:.0} MB/s ({} passes, one core)",
        best.as_secs_f64() * 1e3,
        mb / best.as_secs_f64(),
        mean.as_secs_f64() * 1e3,
        mb / mean.as_secs_f64(),
        passes
    );
}
