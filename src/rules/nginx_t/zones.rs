//! Shared memory zones: the names `*_cache_path keys_zone=`, `limit_req_zone` and
//! `limit_conn_zone` declare and the directives that use them (`ngx_shared_memory_add()`
//! in src/core/ngx_cycle.c and the modules' merge functions).

use super::walk::{accepted_named, NameKeys};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::nginx::{Directive, DirectiveId};
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// One mention of a zone: its name, the module that owns it, and whether it declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneRef {
    /// The zone name.
    pub name: String,
    /// The owning module's short name (`proxy`, `fastcgi`, `limit_req`, …).
    pub tag: &'static str,
    /// True for a declaration with a size, false for a use.
    pub declares: bool,
}

const CACHES: [&str; 4] = ["proxy", "fastcgi", "uwsgi", "scgi"];

/// The names [`zone_ref`] reads.
static ZONE_NAMES: std::sync::LazyLock<NameKeys> = std::sync::LazyLock::new(|| {
    NameKeys::matching(|n| {
        CACHES.iter().any(|tag| {
            n.strip_prefix(tag)
                .is_some_and(|rest| rest == "_cache_path" || rest == "_cache")
        }) || matches!(
            n,
            "limit_req_zone" | "limit_conn_zone" | "limit_req" | "limit_conn"
        )
    })
});

/// The zone a directive declares or uses, if any.
pub fn zone_ref(d: &Directive) -> Option<ZoneRef> {
    let name = d.name.as_ref();
    let decl = |prefix: &str| {
        d.args.iter().find_map(|a| {
            let rest = a.value.strip_prefix(prefix)?;
            let (zone, size) = rest.split_once(':')?;
            (!size.is_empty()).then(|| zone.to_string())
        })
    };
    for tag in CACHES {
        if name.strip_prefix(tag) == Some("_cache_path") {
            return Some(ZoneRef {
                name: decl("keys_zone=")?,
                tag,
                declares: true,
            });
        }
        if name.strip_prefix(tag) == Some("_cache") {
            let z = d.arg(0)?;
            if z == "off" || z.contains('$') {
                return None;
            }
            return Some(ZoneRef {
                name: z.to_string(),
                tag,
                declares: false,
            });
        }
    }
    match name {
        "limit_req_zone" => Some(ZoneRef {
            name: decl("zone=")?,
            tag: "limit_req",
            declares: true,
        }),
        "limit_conn_zone" => Some(ZoneRef {
            name: decl("zone=")?,
            tag: "limit_conn",
            declares: true,
        }),
        "limit_req" => {
            let z = d.args.iter().find_map(|a| a.value.strip_prefix("zone="))?;
            Some(ZoneRef {
                name: z.to_string(),
                tag: "limit_req",
                declares: false,
            })
        }
        "limit_conn" => Some(ZoneRef {
            name: d.arg(0)?.to_string(),
            tag: "limit_conn",
            declares: false,
        }),
        _ => None,
    }
}

/// `nginx-unknown-zone`: a cache or limit zone that is never declared, or declared for
/// another module.
pub struct UnknownZone;

static ZONE: RuleMeta = RuleMeta {
    id: "nginx-unknown-zone",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary:
        "a cache or limit zone is used but never declared, or one name is declared for two modules",
    fix: None,
    options: &[],
};

impl Rule for UnknownZone {
    fn meta(&self) -> &'static RuleMeta {
        &ZONE
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let model = &cx.stack.nginx;
        // Per configuration (main block): every mention in reading order.
        let mut refs: Vec<(u32, DirectiveId, ZoneRef)> = Vec::new();
        for v in accepted_named(cx, &ZONE_NAMES) {
            let d = model.directive(v.id);
            if let Some(z) = zone_ref(d) {
                refs.push((model.main_of(d.parent).0, v.id, z));
            }
        }
        for (i, (main, id, z)) in refs.iter().enumerate() {
            let d = model.directive(*id);
            let same_name = |r: &&(u32, DirectiveId, ZoneRef)| r.0 == *main && r.2.name == z.name;
            // nginx checks the tag when the name is mentioned a second time.
            if let Some(other) = refs[..i]
                .iter()
                .filter(same_name)
                .find(|r| r.2.tag != z.tag)
            {
                let p = model.directive(other.1);
                out.push(
                    Diagnostic::new(
                        ZONE.id,
                        ZONE.severity,
                        d.file,
                        d.name_range(),
                        format!(
                            "the shared memory zone \"{}\" is already declared for a different use",
                            z.name
                        ),
                    )
                    .with_related(
                        p.file,
                        p.name_range(),
                        format!("`{}` uses the name first", p.name),
                    )
                    .with_help("give each cache and limit zone its own name"),
                );
                continue;
            }
            // A fragment no configuration includes is linted alone: a zone declared in
            // any configuration of the run (its main file, another fragment) counts.
            let lone = model.block(crate::model::nginx::BlockId(*main)).kind
                != crate::model::nginx::BlockKind::Main;
            if z.declares
                || refs
                    .iter()
                    .filter(|r| lone || same_name(r))
                    .any(|r| r.2.declares && r.2.tag == z.tag && r.2.name == z.name)
            {
                continue;
            }
            let message = if CACHES.contains(&z.tag) {
                format!("\"{}\" zone \"{}\" is unknown", d.name, z.name)
            } else {
                format!("zero size shared memory zone \"{}\"", z.name)
            };
            let declare = match z.tag {
                "limit_req" => "limit_req_zone KEY zone=NAME:10m rate=10r/s;".to_string(),
                "limit_conn" => "limit_conn_zone KEY zone=NAME:10m;".to_string(),
                tag => format!("{tag}_cache_path PATH keys_zone=NAME:10m;"),
            };
            out.push(
                Diagnostic::new(
                    ZONE.id,
                    ZONE.severity,
                    d.file,
                    d.args.first().map_or(d.name_range(), |a| a.range),
                    message,
                )
                .with_help(format!(
                    "declare the zone in the http block: `{}`",
                    declare.replace("NAME", &z.name)
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::nginx::BlockId;
    use crate::model::nginx_directives::DIRECTIVES;

    #[test]
    fn the_zone_names_are_the_names_zone_ref_reads() {
        // UnknownZone reads only the visits of ZONE_NAMES: no other name may mention a zone.
        let args: &[&[&str]] = &[&["one"], &["zone=one:10m"], &["/c", "keys_zone=one:10m"]];
        for spec in DIRECTIVES {
            let listed = ZONE_NAMES.contains_name(spec.name);
            let mentions = args
                .iter()
                .any(|a| zone_ref(&Directive::for_test(spec.name, a, BlockId(0))).is_some());
            assert!(listed || !mentions, "{} mentions a zone", spec.name);
        }
        for name in [
            "proxy_cache",
            "fastcgi_cache_path",
            "limit_req",
            "limit_conn_zone",
        ] {
            assert!(ZONE_NAMES.contains_name(name), "{name}");
        }
    }
}
