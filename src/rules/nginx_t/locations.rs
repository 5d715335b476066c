//! Names nginx keeps once: prefix and exact locations of one block
//! (`ngx_http_join_exact_locations()` in src/http/ngx_http.c) and upstream blocks
//! (`ngx_http_upstream_add()` in src/http/ngx_http_upstream.c).

use super::walk::{accepted_named, NameKeys};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::{BlockKind, DirectiveId};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// How a location matches, for the duplicate check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LocationMatch<'a> {
    /// `location = /x`.
    Exact(&'a str),
    /// `location /x` or `location ^~ /x` (nginx joins both in one tree).
    Prefix(&'a str),
    /// Regex and named locations: nginx does not check them for duplicates.
    Unchecked,
}

/// Classify a location's arguments as `ngx_http_core_location()` does.
pub fn location_match<'a>(args: &[&'a str]) -> LocationMatch<'a> {
    match *args {
        ["=", uri] => LocationMatch::Exact(uri),
        ["^~", uri] => LocationMatch::Prefix(uri),
        [one] => {
            if let Some(u) = one.strip_prefix('=') {
                LocationMatch::Exact(u)
            } else if let Some(u) = one.strip_prefix("^~") {
                LocationMatch::Prefix(u)
            } else if one.starts_with('~') || one.starts_with('@') {
                LocationMatch::Unchecked
            } else {
                LocationMatch::Prefix(one)
            }
        }
        _ => LocationMatch::Unchecked,
    }
}

/// `nginx-duplicate-location`: two locations of one block match the same URI the same way.
pub struct DuplicateLocation;

static LOCATION: RuleMeta = RuleMeta {
    id: "nginx-duplicate-location",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "two prefix (or two exact) locations of one block have the same URI",
    fix: None,
    options: &[],
};

impl Rule for DuplicateLocation {
    fn meta(&self) -> &'static RuleMeta {
        &LOCATION
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let mut seen: crate::model::hash::FastMap<(u32, LocationMatch<'_>), DirectiveId> =
            Default::default();
        let names = NameKeys::of(["location"]);
        for v in accepted_named(cx, &names) {
            let d = model.directive(v.id);
            let m = match &d.args[..] {
                [a] => location_match(&[a.value.as_str()]),
                [a, b] => location_match(&[a.value.as_str(), b.value.as_str()]),
                _ => LocationMatch::Unchecked,
            };
            if m == LocationMatch::Unchecked {
                continue;
            }
            let key = (d.parent.0, m);
            if let Some(prev) = seen.get(&key) {
                let (LocationMatch::Exact(uri) | LocationMatch::Prefix(uri)) = &key.1 else {
                    continue;
                };
                let p = model.directive(*prev);
                let range = d.args.last().map_or(d.name_range(), |a| a.range);
                out.push(
                    Diagnostic::new(
                        LOCATION.id,
                        LOCATION.severity,
                        d.file,
                        range,
                        format!("duplicate location \"{uri}\""),
                    )
                    .with_related(p.file, p.name_range(), "the same location is defined here")
                    .with_help("merge the two location blocks into one"),
                );
            } else {
                seen.insert(key, v.id);
            }
        }
    }
}

/// `nginx-duplicate-upstream`: two upstream blocks with one name.
pub struct DuplicateUpstream;

static UPSTREAM: RuleMeta = RuleMeta {
    id: "nginx-duplicate-upstream",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "two upstream blocks have the same name",
    fix: None,
    options: &[],
};

impl Rule for DuplicateUpstream {
    fn meta(&self) -> &'static RuleMeta {
        &UPSTREAM
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        let mut seen: crate::model::hash::FastMap<(u32, String), DirectiveId> =
            crate::model::hash::FastMap::default();
        let names = NameKeys::of(["upstream"]);
        for v in accepted_named(cx, &names) {
            let d = model.directive(v.id);
            let Some(b) = d.block else { continue };
            let kind = model.block(b).kind;
            if !matches!(kind, BlockKind::Upstream | BlockKind::StreamUpstream) {
                continue;
            }
            let Some(name) = d.args.first() else { continue };
            // nginx compares upstream names without regard to case.
            let key = (d.parent.0, name.value.as_str().to_ascii_lowercase());
            if let Some(prev) = seen.get(&key) {
                let p = model.directive(*prev);
                out.push(
                    Diagnostic::new(
                        UPSTREAM.id,
                        UPSTREAM.severity,
                        d.file,
                        name.range,
                        format!("duplicate upstream \"{}\"", name.value),
                    )
                    .with_related(p.file, p.name_range(), "first defined here")
                    .with_help("rename one of them, or merge their servers into one block"),
                );
            } else {
                seen.insert(key, v.id);
            }
        }
    }
}
