//! The directives nginx reads as directives, each with the context it is read in and what
//! `ngx_conf_handler` says about it.
//!
//! The bodies of opaque blocks (`map`, `geo`, `types`, …), of Lua blocks, of blocks nginx
//! does not model, and of blocks opened by a directive that is itself refused (unknown, or
//! not allowed where it stands) are not walked: nginx stops at the outer error, so
//! reporting their insides would only add noise.

use crate::config::Config;
use crate::model::nginx::{key_of, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_directives::{
    check_specs, lookup, table_index, Context, DirectiveSpec, Verdict, DIRECTIVES,
};

/// One directive as nginx reads it. Kept small (16 bytes): a run holds one per directive
/// of the model, and many rules read them all.
#[derive(Clone, Copy, Debug)]
pub struct Visit {
    /// The directive.
    pub id: DirectiveId,
    /// The context it stands in.
    pub ctx: Context,
    /// The verdict's kind and table entry (see [`Visit::verdict`]).
    verdict_kind: u8,
    verdict_spec: u16,
    /// The table's entries for its name, as a range of the table.
    specs_start: u16,
    specs_len: u8,
    /// Every entry is a module's that the configuration does not load
    /// ([`super::directive::missing_module`]).
    pub missing_module: bool,
    /// The target nginx version has the directive ([`super::directive::in_version`]).
    pub in_version: bool,
}

impl Visit {
    fn new(
        id: DirectiveId,
        ctx: Context,
        verdict: Verdict,
        specs: &'static [DirectiveSpec],
        missing_module: bool,
        in_version: bool,
    ) -> Visit {
        let (verdict_kind, spec) = match verdict {
            Verdict::Ok(s) => (0, Some(s)),
            Verdict::Unknown => (1, None),
            Verdict::NotAllowedHere => (2, None),
            Verdict::NotTerminated(s) => (3, Some(s)),
            Verdict::NoOpeningBrace(s) => (4, Some(s)),
            Verdict::InvalidArgCount(s) => (5, Some(s)),
        };
        Visit {
            id,
            ctx,
            verdict_kind,
            verdict_spec: spec.map_or(0, table_index),
            specs_start: specs.first().map_or(0, table_index),
            specs_len: specs.len().min(u8::MAX as usize) as u8,
            missing_module,
            in_version,
        }
    }

    /// What nginx's handler says about it (ignoring versions).
    pub fn verdict(&self) -> Verdict {
        let spec = &DIRECTIVES[self.verdict_spec as usize];
        match self.verdict_kind {
            0 => Verdict::Ok(spec),
            1 => Verdict::Unknown,
            2 => Verdict::NotAllowedHere,
            3 => Verdict::NotTerminated(spec),
            4 => Verdict::NoOpeningBrace(spec),
            _ => Verdict::InvalidArgCount(spec),
        }
    }

    /// The table's entries for its name (looked up once per run).
    pub fn specs(&self) -> &'static [DirectiveSpec] {
        let start = self.specs_start as usize;
        &DIRECTIVES[start..start + self.specs_len as usize]
    }

    /// True when the directive's name is one of `names` ([`NameKeys`]): read from the
    /// visit alone, so a rule that wants a few names skips the others without loading
    /// their directives.
    pub fn is_named(&self, names: &NameKeys) -> bool {
        self.specs_len > 0 && names.contains(self.specs_start)
    }
}

/// Directive names nginx knows, as the visits record them: a rule that reads a few names
/// of the 100 000 visits of a large site tests each visit with [`Visit::is_named`]. A set
/// of table entries, one bit each, so the test costs the same for one name or fifty.
#[derive(Clone, Debug, Default)]
pub struct NameKeys(Vec<u64>);

impl NameKeys {
    fn insert(&mut self, key: u16) {
        let (word, bit) = (key as usize / 64, key % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn contains(&self, key: u16) -> bool {
        self.0
            .get(key as usize / 64)
            .is_some_and(|w| w & (1 << (key % 64)) != 0)
    }

    /// The keys of `names`; names the table does not know match nothing.
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> NameKeys {
        let mut keys = NameKeys::default();
        for key in names.into_iter().filter_map(key_of) {
            keys.insert(key);
        }
        keys
    }

    /// The keys of every name of the table that `pred` accepts.
    pub fn matching(pred: impl Fn(&str) -> bool) -> NameKeys {
        NameKeys::of(DIRECTIVES.iter().map(|d| d.name).filter(|n| pred(n)))
    }

    /// True when `name` is one of the names.
    pub fn contains_name(&self, name: &str) -> bool {
        key_of(name).is_some_and(|key| self.contains(key))
    }
}

/// The visits of directives named one of `names` whose verdict is `Ok`, in reading order.
pub fn accepted_named<'c>(
    cx: &'c crate::rules::Checker<'_>,
    names: &NameKeys,
) -> impl Iterator<Item = Visit> + 'c {
    let names = names.clone();
    walk(cx)
        .iter()
        .copied()
        .filter(move |v| v.is_named(&names) && v.verdict_kind == 0)
}

/// The table context of a model block, when its body holds directives nginx checks.
pub fn context_of(kind: BlockKind) -> Option<Context> {
    Some(match kind {
        BlockKind::Main => Context::Main,
        BlockKind::Events => Context::Events,
        BlockKind::Http => Context::Http,
        BlockKind::Server => Context::Server,
        BlockKind::Location => Context::Location,
        BlockKind::ServerIf => Context::If,
        BlockKind::LocationIf => Context::LocationIf,
        BlockKind::LimitExcept => Context::LimitExcept,
        BlockKind::Upstream => Context::Upstream,
        BlockKind::Stream => Context::Stream,
        BlockKind::StreamServer => Context::StreamServer,
        BlockKind::StreamUpstream => Context::StreamUpstream,
        BlockKind::Mail => Context::Mail,
        BlockKind::MailServer => Context::MailServer,
        BlockKind::Opaque | BlockKind::Other => return None,
    })
}

/// True when the user declared `name` in `[nginx] extra-directives`.
pub fn is_extra(config: &Config, name: &str) -> bool {
    config.nginx_extra_directives.iter().any(|n| n == name)
}

/// Every directive nginx would check, in reading order per configuration.
pub fn walk<'c>(cx: &'c crate::rules::Checker<'_>) -> &'c [Visit] {
    cx.shared
        .nginx_visits
        .get_or_init(|| walk_model(&cx.stack.nginx, cx.config))
}

/// Every directive of `model` the table checks, with its context and verdict.
pub fn walk_model(model: &NginxModel, config: &Config) -> Vec<Visit> {
    let mut out = Vec::with_capacity(model.directives.len());
    // What depends on the name alone, once per name: names nginx knows point at their
    // table entry (see `intern_name`), whose index keys this list.
    let mut per_name: Vec<Option<NameFacts>> = vec![None; DIRECTIVES.len()];
    let facts_of = |name: &str| -> NameFacts {
        let specs = lookup(name);
        NameFacts {
            extra: is_extra(config, name),
            specs,
            missing_module: super::directive::missing_module_of(model, specs).is_some(),
            in_version: super::directive::in_version_of(config, specs),
        }
    };
    // Directive ids follow nginx's reading order (a block's items right after the
    // directive that opens it), so one pass in id order visits them as a walk of the
    // blocks would, without a stack. A block is walked when its context is known here:
    // the main blocks, and the blocks of directives the walk accepts.
    let mut block_ctx: Vec<Option<Context>> = vec![None; model.blocks.len()];
    for &root in &model.roots {
        if let Some(c) = block_ctx.get_mut(root.0 as usize) {
            *c = context_of(model.block(root).kind);
        }
    }
    for (i, d) in model.directives.iter().enumerate() {
        let Some(ctx) = block_ctx.get(d.parent.0 as usize).copied().flatten() else {
            continue;
        };
        let id = DirectiveId(i as u32);
        let facts = match d.name.known_key() {
            Some(key) => *per_name[key as usize].get_or_insert_with(|| facts_of(&d.name)),
            None => facts_of(&d.name),
        };
        if facts.extra {
            continue;
        }
        let specs = facts.specs;
        let verdict = check_specs(specs, ctx, d.args.len(), d.block.is_some());
        out.push(Visit::new(
            id,
            ctx,
            verdict,
            specs,
            facts.missing_module,
            facts.in_version,
        ));
        let Some(inner) = d.block else { continue };
        if matches!(verdict, Verdict::Unknown | Verdict::NotAllowedHere) {
            continue;
        }
        let inner_ctx = context_of(model.block(inner).kind).or_else(|| {
            // Blocks the model does not type (rtmp) still have a table context.
            match ctx.enter(&d.name) {
                Some(Context::Other) | None => None,
                Some(c) => Some(c),
            }
        });
        if let Some(c) = block_ctx.get_mut(inner.0 as usize) {
            *c = inner_ctx;
        }
    }
    out
}

/// What the walk needs to know of a directive name, whatever its place.
#[derive(Clone, Copy)]
struct NameFacts {
    extra: bool,
    specs: &'static [DirectiveSpec],
    missing_module: bool,
    in_version: bool,
}

/// The byte offset nginx's line number points at for a directive: its `;` or its `{`.
pub fn terminator(model: &NginxModel, id: DirectiveId) -> u32 {
    let d = model.directive(id);
    match d.block {
        Some(b) => model.block(b).open,
        None => d.range.end.saturating_sub(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_give_back_their_verdict_and_entries() {
        // Entries are kept as 16-bit indices into the table.
        assert!(DIRECTIVES.len() < u16::MAX as usize);
        let cases = [
            ("proxy_pass", Context::Location, 1, false),
            ("proxy_pass", Context::Http, 1, false),
            ("server", Context::Http, 0, true),
            ("server", Context::Http, 0, false),
            ("listen", Context::Server, 0, false),
            ("listen", Context::Server, 1, true),
            ("no_such_directive", Context::Server, 1, false),
            // The last entry of the table, and a name with several entries.
            (
                DIRECTIVES[DIRECTIVES.len() - 1].name,
                Context::Http,
                1,
                false,
            ),
            ("server", Context::Upstream, 1, false),
        ];
        for (name, ctx, nargs, block) in cases {
            let specs = lookup(name);
            let verdict = check_specs(specs, ctx, nargs, block);
            let v = Visit::new(DirectiveId(7), ctx, verdict, specs, true, false);
            assert_eq!(v.verdict(), verdict, "{name}");
            assert!(std::ptr::eq(v.specs(), specs) || specs.is_empty(), "{name}");
            assert_eq!(v.specs().len(), specs.len());
            assert_eq!((v.id, v.ctx), (DirectiveId(7), ctx));
            assert!(v.missing_module && !v.in_version);
        }
        assert_eq!(std::mem::size_of::<Visit>(), 16);
    }
}
