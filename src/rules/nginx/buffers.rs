//! The buffer settings of the proxy, fastcgi, uwsgi and scgi modules as nginx merges them
//! (`ngx_http_proxy_merge_loc_conf` and its siblings), shared by the buffer rules.

use super::util::{eff_arg, PAGE_SIZE};
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_values::parse_size;

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

/// The names of the buffer directives of `module`.
pub fn names(module: &str) -> [String; 5] {
    [
        format!("{module}_buffer_size"),
        format!("{module}_buffers"),
        format!("{module}_busy_buffers_size"),
        format!("{module}_temp_file_write_size"),
        format!("{module}_max_temp_file_size"),
    ]
}

/// True when `block` writes one of `module`'s buffer directives itself (a block that
/// writes none has its parent's values, checked there).
pub fn sets_any(m: &NginxModel, block: BlockId, module: &str) -> bool {
    names(module)
        .iter()
        .any(|n| m.here(block, n).next().is_some())
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
    let buffer_size = match size_of(&bs)? {
        Some((id, v)) => (Some(id), v),
        None => (None, PAGE_SIZE),
    };
    let bufs = match m.effective(block, &bufs) {
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
        busy: size_of(&busy)?,
        temp_write: size_of(&tw)?,
        max_temp: size_of(&mt)?,
    })
}

/// Every place nginx checks buffer relations: each block where it merges `module`'s
/// buffer settings and one of them is written, with the effective settings there. An http
/// block without servers is left out: nginx never merges into it.
pub fn checked_sets(m: &NginxModel) -> Vec<(BlockId, &'static str, Buffers)> {
    let mut out = Vec::new();
    for (i, blk) in m.blocks.iter().enumerate() {
        if !is_loc_level(blk.kind) {
            continue;
        }
        let block = BlockId(i as u32);
        if blk.kind == BlockKind::Http && m.here(block, "server").next().is_none() {
            continue;
        }
        for module in MODULES {
            if !sets_any(m, block, module) {
                continue;
            }
            if let Some(b) = effective(m, block, module) {
                out.push((block, module, b));
            }
        }
    }
    out
}
