//! `gatelint parse --kind nginx`: print the tree of an nginx file and everything it
//! includes, as gatelint's lossless JSON or as `crossplane parse` prints it.

use super::{ParseArgs, ParseFormat, EXIT_FAILURE, EXIT_FINDINGS, EXIT_OK};
use crate::syntax::nginx::{crossplane, dump, FsSource};
use std::io::{BufWriter, Write};

/// Parse an nginx file (with its includes) and print its tree. Exit 0 when nothing has a
/// syntax or include error, 1 when something has (all is still printed), 2 when the main
/// file cannot be read.
pub fn run(args: &ParseArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut source = FsSource::new();
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

#[cfg(test)]
mod tests {
    fn run(args: &[&str]) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut all = vec!["gatelint", "parse", "--kind", "nginx"];
        all.extend_from_slice(args);
        let code = crate::cli::run(all, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn json_tree_of_a_file_and_its_includes() {
        let (code, out, err) = run(&["testdata/nginx/basic/nginx.conf"]);
        assert_eq!((code, err.as_str()), (0, ""));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        insta::assert_json_snapshot!("parse_nginx_basic_json", v);
    }

    #[test]
    fn crossplane_format_of_a_file_and_its_includes() {
        let (code, out, err) = run(&["--format", "crossplane", "testdata/nginx/basic/nginx.conf"]);
        assert_eq!((code, err.as_str()), (0, ""));
        assert!(out.ends_with("]}\n"));
        insta::assert_snapshot!("parse_nginx_basic_crossplane", out);
    }

    #[test]
    fn syntax_and_include_errors_exit_1_and_still_print() {
        let (code, out, _) = run(&["testdata/nginx/broken/nginx.conf"]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let errors: Vec<&str> = v["files"][0]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap())
            .collect();
        assert_eq!(
            errors,
            ["unexpected \"}\"", "unexpected \"b\"", "unexpected \"}\""]
        );
        assert_eq!(v["files"][0]["errors"][0]["range"]["start"]["line"], 4);
        assert_eq!(
            v["include_errors"][0]["message"],
            "open() \"testdata/nginx/broken/missing.conf\" failed (2: No such file or directory)"
        );
        assert_eq!(v["status"], "failed");
        let (code, out, _) = run(&["--format", "crossplane", "testdata/nginx/broken/nginx.conf"]);
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["config"][0]["parsed"], serde_json::json!([]));
        assert_eq!(
            v["errors"][0]["error"],
            "[Errno 2] No such file or directory: 'testdata/nginx/broken/missing.conf'"
        );
    }

    #[test]
    fn a_missing_main_file_exits_2() {
        let (code, out, err) = run(&["testdata/nginx/nope.conf"]);
        assert_eq!(code, 2);
        assert!(out.is_empty());
        assert!(
            err.contains("cannot read testdata/nginx/nope.conf"),
            "{err}"
        );
    }

    #[test]
    fn prefix_changes_where_includes_resolve() {
        let (code, out, _) = run(&[
            "--prefix",
            "testdata/nginx/basic/conf.d",
            "testdata/nginx/basic/nginx.conf",
        ]);
        // conf.d/*.conf under conf.d/ matches nothing (fine); snippets/ is missing there.
        assert_eq!(code, 1);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["files"].as_array().unwrap().len(), 1);
        assert_eq!(
            v["include_errors"][0]["message"],
            "open() \"testdata/nginx/basic/conf.d/snippets/fastcgi.conf\" failed (2: No such file or directory)"
        );
    }
}
