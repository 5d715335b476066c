//! The JSON format: the stable contract editors and CI scripts read (schema_version 1).
//!
//! Lines and columns are 1-based, columns count Unicode scalar values, offsets are 0-based
//! bytes. Fields keep the order of the structs below. The JSON Schema of this document is
//! `testdata/schema/gatelint-json-v1.schema.json`; adding a field is compatible, removing or
//! renaming one bumps [`JSON_SCHEMA_VERSION`].

use super::{Report, Summary};
use crate::diagnostic::{Applicability, Severity};
use crate::source::{FileId, FileKind, LineCol, TextRange};
use serde::Serialize;
use std::io::{self, Write};

/// The version of the JSON contract.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document {
    schema_version: u32,
    tool: Tool,
    files: Vec<File>,
    diagnostics: Vec<JsonDiagnostic>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<super::RunContext>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct File {
    path: String,
    kind: FileKind,
}

#[derive(Serialize)]
struct Range {
    start: LineCol,
    end: LineCol,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    rule: &'static str,
    severity: Severity,
    message: String,
    path: String,
    range: Range,
    related: Vec<JsonRelated>,
    help: Option<String>,
    fix: Option<JsonFix>,
}

#[derive(Serialize)]
struct JsonRelated {
    path: String,
    range: Range,
    message: String,
}

#[derive(Serialize)]
struct JsonFix {
    applicability: Applicability,
    message: String,
    edits: Vec<JsonEdit>,
}

#[derive(Serialize)]
struct JsonEdit {
    path: String,
    range: Range,
    replacement: String,
}

/// Print the report as one pretty-printed JSON document and a newline.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let range = |file: FileId, r: TextRange| {
        let (start, end) = report.span(file, r);
        Range { start, end }
    };
    let diagnostics = report
        .sorted()
        .into_iter()
        .map(|d| JsonDiagnostic {
            rule: d.rule,
            severity: d.severity,
            message: d.message.clone(),
            path: report.path(d.file),
            range: range(d.file, d.range),
            related: d
                .related
                .iter()
                .map(|r| JsonRelated {
                    path: report.path(r.file),
                    range: range(r.file, r.range),
                    message: r.message.clone(),
                })
                .collect(),
            help: d.help.clone(),
            fix: d.fix.as_ref().map(|f| JsonFix {
                applicability: f.applicability,
                message: f.message.clone(),
                edits: f
                    .edits
                    .iter()
                    .map(|e| JsonEdit {
                        path: report.path(e.file),
                        range: range(e.file, e.range),
                        replacement: e.replacement.clone(),
                    })
                    .collect(),
            }),
        })
        .collect();
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool {
            name: "gatelint",
            version: env!("CARGO_PKG_VERSION"),
        },
        files: report
            .file_kinds
            .iter()
            .map(|(id, kind)| File {
                path: report.path(*id),
                kind: *kind,
            })
            .collect(),
        diagnostics,
        summary: report.summary(),
        context: report.context.cloned(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
