//! The buffer settings of the proxy, fastcgi, uwsgi and scgi modules as nginx merges them
//! (`ngx_http_proxy_merge_loc_conf` and its siblings), shared by the buffer rules.

use super::util::{eff_arg, PAGE_SIZE};
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_values::parse_size;
use crate::rules::Checker;

/// The modules whose buffers nginx checks at load.
pub const MODULES: [&str; 4] = ["proxy", "fastcgi", "uwsgi", "scgi"];

/// The effective buffer settings of one module in one block.
#[derive(Clone, Debug)]
pub struct Buffers {
    /// `*_buffer_size` (default one page) and its directive.
    pub buffer_size: (Option<DirectiveId>, u64),
    /// `*_buffers` number and size (default `8 4k`) and the directive.
    pub bufs: (Option<DirectiveId>, u64, u64),
    /// `*_busy_buffers_size` when set.
    pub busy: Option<(DirectiveId, u64)>,
    /// `*_temp_file_write_size` when set.
    pub temp_write: Option<(DirectiveId, u64)>,
    /// `*_max_temp_file_size` when set.
    pub max_temp: Option<(DirectiveId, u64)>,
}

impl Buffers {
    /// The larger of `*_buffer_size` and one of `*_buffers`: nginx's `size`.
    pub fn size(&self) -> u64 {
        self.buffer_size.1.max(self.bufs.2)
    }

    /// The busy size nginx uses: the set value or twice `size`.
    pub fn busy_size(&self) -> u64 {
        self.busy.map(|b| b.1).unwrap_or(2 * self.size())
    }
}

/// The blocks nginx merges a location configuration for.
pub fn is_loc_level(kind: BlockKind) -> bool {
    matches!(
        kind,
        BlockKind::Http
            | BlockKind::Server
            | BlockKind::Location
            | BlockKind::ServerIf
            | BlockKind::LocationIf
            | BlockKind::LimitExcept
    )
}

/// The names of the buffer directives of `module` (one of [`MODULES`]).
pub fn names(module: &str) -> [&'static str; 5] {
    match module {
        "proxy" => [
            "proxy_buffer_size",
            "proxy_buffers",
            "proxy_busy_buffers_size",
            "proxy_temp_file_write_size",
            "proxy_max_temp_file_size",
        ],
        "fastcgi" => [
            "fastcgi_buffer_size",
            "fastcgi_buffers",
            "fastcgi_busy_buffers_size",
            "fastcgi_temp_file_write_size",
            "fastcgi_max_temp_file_size",
        ],
        "uwsgi" => [
            "uwsgi_buffer_size",
            "uwsgi_buffers",
            "uwsgi_busy_buffers_size",
            "uwsgi_temp_file_write_size",
            "uwsgi_max_temp_file_size",
        ],
        _ => [
            "scgi_buffer_size",
            "scgi_buffers",
            "scgi_busy_buffers_size",
            "scgi_temp_file_write_size",
            "scgi_max_temp_file_size",
        ],
    }
}

/// Which of [`MODULES`] each block writes a buffer directive of itself, as bits (a block
/// that writes none has its parent's values, checked there). Found from the model's
/// name index: only the blocks holding such a directive are visited.
fn modules_sets(m: &NginxModel) -> Vec<(BlockId, u8)> {
    let mut sets: crate::model::hash::FastMap<BlockId, u8> = Default::default();
    for (bit, module) in MODULES.iter().enumerate() {
        for name in names(module) {
            for &id in m.named(name) {
                *sets.entry(m.directive(id).parent).or_default() |= 1 << bit;
            }
        }
    }
    let mut sets: Vec<(BlockId, u8)> = sets.into_iter().collect();
    sets.sort_unstable_by_key(|(b, _)| *b);
    sets
}

/// The effective buffer settings of `module` in `block`; `None` when a value does not parse.
pub fn effective(m: &NginxModel, block: BlockId, module: &str) -> Option<Buffers> {
    let [bs, bufs, busy, tw, mt] = names(module);
    let size_of = |name: &str| -> Option<Option<(DirectiveId, u64)>> {
        match eff_arg(m, block, name) {
            Some((id, v)) => Some(Some((id, parse_size(v)?))),
            None => Some(None),
        }
    };
    let buffer_size = match size_of(bs)? {
        Some((id, v)) => (Some(id), v),
        None => (None, PAGE_SIZE),
    };
    let bufs = match m.effective(block, bufs) {
        Some(id) => {
            let d = m.directive(id);
            let n: u64 = d.arg(0)?.parse().ok()?;
            let s = parse_size(d.arg(1)?)?;
            (Some(id), n, s)
        }
        None => (None, 8, PAGE_SIZE),
    };
    Some(Buffers {
        buffer_size,
        bufs,
        busy: size_of(busy)?,
        temp_write: size_of(tw)?,
        max_temp: size_of(mt)?,
    })
}

/// Every place nginx checks buffer relations: each block where it merges `module`'s
/// buffer settings and one of them is written, with the effective settings there. An http
/// block without servers is left out: nginx never merges into it. Computed once per run.
pub fn checked_sets<'c>(cx: &'c Checker<'_>) -> &'c [(BlockId, &'static str, Buffers)] {
    cx.shared
        .buffer_sets
        .get_or_init(|| compute_checked_sets(&cx.stack.nginx))
}

/// [`checked_sets`] for one model.
pub fn compute_checked_sets(m: &NginxModel) -> Vec<(BlockId, &'static str, Buffers)> {
    let mut out = Vec::new();
    for (block, set) in modules_sets(m) {
        let blk = m.block(block);
        if !is_loc_level(blk.kind) {
            continue;
        }
        if blk.kind == BlockKind::Http && m.here(block, "server").next().is_none() {
            continue;
        }
        for (bit, &module) in MODULES.iter().enumerate() {
            if set & (1 << bit) == 0 {
                continue;
            }
            if let Some(b) = effective(m, block, module) {
                out.push((block, module, b));
            }
        }
    }
    out
}
