//! `temp-file-write-size-invalid`: `*_temp_file_write_size` or `*_max_temp_file_size`
//! below the buffer size, which nginx refuses at load.

use super::buffers::{checked_sets, names};
use super::util::set_scalar;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::model::nginx::BlockId;
use crate::model::nginx_values::format_size;
use crate::rules::{Checker, Rule, RuleMeta};
use crate::source::FileKind;

/// The rule.
pub struct TempFileWriteSizeInvalid;

static META: RuleMeta = RuleMeta {
    id: "temp-file-write-size-invalid",
    severity: Severity::Error,
    kinds: &[FileKind::Nginx],
    summary:
        "*_temp_file_write_size or *_max_temp_file_size is below the buffer size nginx requires",
    fix: Some(Applicability::Unsafe),
    options: &[],
};

impl Rule for TempFileWriteSizeInvalid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Checker<'_>, out: &mut Vec<Diagnostic>) {
        let m = &cx.stack.nginx;
        for &(block, module, ref b) in checked_sets(cx) {
            let [bs_name, bufs_name, _, tw_name, mt_name] = names(module);
            let size = b.size();
            // The implicit write size is 2 x size, always valid; only a set one can fail.
            let mut bad = Vec::new();
            if let Some((id, v)) = b.temp_write {
                if v < size {
                    bad.push((id, tw_name, format!("\"{tw_name}\" must be equal to or greater than the maximum of the value of \"{bs_name}\" and one of the \"{bufs_name}\"")));
                }
            }
            if let Some((id, v)) = b.max_temp {
                if v != 0 && v < size {
                    bad.push((id, mt_name, format!("\"{mt_name}\" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of \"{bs_name}\" and one of the \"{bufs_name}\"")));
                }
            }
            for (id, name, msg) in bad {
                let d = m.directive(id);
                // Report where the value is written, once: at its own level.
                if d.parent != block && sets_any_but(m, block, module, name) {
                    // Only the size changed here; report here at the size directive.
                } else if d.parent != block {
                    continue;
                }
                let (file, range) = if d.parent == block {
                    (d.file, d.range)
                } else {
                    let here = names(module).iter().find_map(|n| m.here(block, n).last());
                    match here {
                        Some(h) => (m.directive(h).file, m.directive(h).range),
                        None => continue,
                    }
                };
                let mut diag = Diagnostic::new(
                    META.id,
                    META.severity,
                    file,
                    range,
                    format!(
                        "nginx refuses this configuration: {msg} ({})",
                        format_size(size)
                    ),
                );
                if d.parent != block {
                    diag = diag.with_related(d.file, d.range, "set here");
                }
                if let Some(e) = set_scalar(m, cx.files, block, name, &format_size(size)) {
                    diag = diag.with_fix(Fix::new(
                        format!("set {name} {}", format_size(size)),
                        Applicability::Unsafe,
                        e,
                    ));
                }
                out.push(diag);
            }
        }
    }
}

/// True when the block writes a buffer directive of `module` other than `name`.
fn sets_any_but(
    m: &crate::model::nginx::NginxModel,
    block: BlockId,
    module: &str,
    name: &str,
) -> bool {
    names(module)
        .iter()
        .filter(|n| **n != name)
        .any(|n| m.here(block, n).next().is_some())
}
