//! `busy-buffers-size-invalid`: `*_buffers` and `*_busy_buffers_size` that nginx refuses at
//! load, with nginx's own wording.

use super::buffers::{checked_sets, names};
use super::util::set_scalar;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx::DirectiveId;
use crate::model::nginx_values::format_size;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct BusyBuffersSizeInvalid;

static META: RuleMeta = RuleMeta {
    id: "busy-buffers-size-invalid",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary: "*_busy_buffers_size or *_buffers break the size relations nginx checks at load",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for BusyBuffersSizeInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for &(block, module, ref b) in checked_sets(cx) {
            let [bs_name, bufs_name, busy_name, _, _] = names(module);
            let size = b.size();
            let (n, s) = (b.bufs.1, b.bufs.2);
            let busy = b.busy_size();
            let message = if n < 2 {
                format!("there must be at least 2 \"{bufs_name}\"")
            } else if busy < size {
                format!("\"{busy_name}\" must be equal to or greater than the maximum of the value of \"{bs_name}\" and one of the \"{bufs_name}\" ({} < {})", format_size(busy), format_size(size))
            } else if busy > (n - 1) * s {
                format!("\"{busy_name}\" must be less than the size of all \"{bufs_name}\" minus one buffer ({} > {} x {})", format_size(busy), n - 1, format_size(s))
            } else {
                continue;
            };
            // Report at the directive of this block that takes part, busy first.
            let here = |id: Option<DirectiveId>| id.filter(|d| m.directive(*d).parent == block);
            let at = here(b.busy.map(|x| x.0))
                .or(here(b.buffer_size.0))
                .or(here(b.bufs.0))
                .or_else(|| names(module).iter().find_map(|n| m.here(block, n).last()));
            let Some(at) = at else { continue };
            let d = m.directive(at);
            let mut diag = Diagnostic::new(META.id, META.severity, d.file, d.range, format!("nginx refuses this configuration: {message}"))
                    .with_help("nginx computes size = max(*_buffer_size, one of *_buffers); *_busy_buffers_size (default 2 x size) must be at least size and at most (number of *_buffers - 1) x buffer size");
            for (id, what) in [
                (b.buffer_size.0, "buffer size in effect"),
                (b.bufs.0, "buffers in effect"),
                (b.busy.map(|x| x.0), "busy buffers size in effect"),
            ] {
                if let Some(id) = id.filter(|x| *x != at) {
                    let r = m.directive(id);
                    diag = diag.with_related(r.file, r.range, what);
                }
            }
            // The smallest change: raise a busy size below `size`, then add buffers
            // until the busy size fits.
            let mut edits = Vec::new();
            let mut new_busy = busy;
            if let Some((_, v)) = b.busy {
                if v < size {
                    new_busy = size;
                    match set_scalar(m, cx.files, block, busy_name, &format_size(size)) {
                        Some(e) => edits.extend(e),
                        None => edits.clear(),
                    }
                }
            }
            let need = (new_busy.div_ceil(s.max(1)) + 1).max(2);
            if need > n {
                let sz = b
                    .bufs
                    .0
                    .and_then(|id| m.directive(id).arg(1).map(str::to_string))
                    .unwrap_or_else(|| format_size(s));
                match set_scalar(m, cx.files, block, bufs_name, &format!("{need} {sz}")) {
                    Some(e) => edits.extend(e),
                    None => edits.clear(),
                }
            }
            if !edits.is_empty() {
                diag = diag.with_fix(Fix::new(
                    format!("set {bufs_name} and {busy_name} so that nginx accepts them"),
                    Applicability::Unsafe,
                    edits,
                ));
            }
            out.push(diag);
        }
    }
}
