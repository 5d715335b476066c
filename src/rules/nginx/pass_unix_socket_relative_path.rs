//! `pass-unix-socket-relative-path`: `unix:` with a relative or empty path, which nginx
//! resolves against its working directory (or refuses when empty).

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::nginx_values::PassError;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct PassUnixSocketRelativePath;

static META: RuleMeta = RuleMeta {
    id: "pass-unix-socket-relative-path",
    severity: Severity::Warning,
    kinds: &[FileKind::Nginx],
    summary: "a *_pass unix socket path is relative or empty",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for PassUnixSocketRelativePath {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for (id, parsed) in super::pass_parses(m) {
            if *parsed != Err(PassError::RelativeSocket) {
                continue;
            }
            let d = m.directive(id);
            let Some(arg) = d.args.first() else { continue };
            let Some(i) = arg.value.find("unix:") else {
                continue;
            };
            let path = &arg.value[i + 5..];
            let mut diag = if path.is_empty() || path.starts_with(':') {
                Diagnostic::new(META.id, META.severity, d.file, arg.range, format!("nginx refuses this configuration: no path in the unix domain socket in upstream \"{}\"", arg.value))
            } else {
                let at = arg.range.start + u32::from(arg.quoted) + i as u32 + 5;
                Diagnostic::new(META.id, META.severity, d.file, arg.range, format!("the socket path `{}` is relative: nginx connects to it relative to its working directory, so it reaches the socket only while nginx happens to run from `/`", path.split(":/").next().unwrap_or(path)))
                    .with_fix(Fix::new("make the socket path absolute", Applicability::Unsafe, vec![Edit::insert(d.file, at, "/")]))
            };
            diag = diag.with_help("write the absolute path PHP-FPM's `listen` uses, such as `unix:/run/php/php8.2-fpm.sock`");
            out.push(diag);
        }
    }
}
