//! The directives nginx reads as directives, each with the context it is read in and what
//! `ngx_conf_handler` says about it.
//!
//! The bodies of opaque blocks (`map`, `geo`, `types`, …), of Lua blocks, of blocks nginx
//! does not model, and of blocks opened by a directive that is itself refused (unknown, or
//! not allowed where it stands) are not walked: nginx stops at the outer error, so
//! reporting their insides would only add noise.

use crate::config::Config;
use crate::model::hash::FastMap;
use crate::model::nginx::{BlockId, BlockKind, DirectiveId, NginxModel};
use crate::model::nginx_directives::{check_specs, lookup, Context, DirectiveSpec, Verdict};

/// One directive as nginx reads it.
#[derive(Clone, Copy, Debug)]
pub struct Visit {
    /// The directive.
    pub id: DirectiveId,
    /// The context it stands in.
    pub ctx: Context,
    /// What nginx's handler says about it (ignoring versions).
    pub verdict: Verdict,
    /// The table's entries for its name (looked up once per run).
    pub specs: &'static [DirectiveSpec],
    /// Every entry is a module's that the configuration does not load
    /// ([`super::directive::missing_module`]).
    pub missing_module: bool,
    /// The target nginx version has the directive ([`super::directive::in_version`]).
    pub in_version: bool,
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
    // What depends on the name alone, once per name: names nginx knows are the table's
    // own strings (see `intern_name`), so their address identifies them.
    let mut per_name: FastMap<usize, NameFacts> = FastMap::default();
    let facts_of = |name: &str| -> NameFacts {
        let specs = lookup(name);
        NameFacts {
            extra: is_extra(config, name),
            specs,
            missing_module: super::directive::missing_module_of(model, specs).is_some(),
            in_version: super::directive::in_version_of(config, specs),
        }
    };
    for &root in &model.roots {
        let Some(ctx) = context_of(model.block(root).kind) else {
            continue;
        };
        let mut stack: Vec<(BlockId, Context, usize)> = vec![(root, ctx, 0)];
        while let Some((block, ctx, i)) = stack.pop() {
            let Some(&id) = model.items(block).get(i) else {
                continue;
            };
            stack.push((block, ctx, i + 1));
            let d = model.directive(id);
            let facts = match &d.name {
                std::borrow::Cow::Borrowed(known) => *per_name
                    .entry(known.as_ptr() as usize)
                    .or_insert_with(|| facts_of(known)),
                std::borrow::Cow::Owned(other) => facts_of(other),
            };
            if facts.extra {
                continue;
            }
            let specs = facts.specs;
            let verdict = check_specs(specs, ctx, d.args.len(), d.block.is_some());
            out.push(Visit {
                id,
                ctx,
                verdict,
                specs,
                missing_module: facts.missing_module,
                in_version: facts.in_version,
            });
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
            if let Some(c) = inner_ctx {
                stack.push((inner, c, 0));
            }
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
