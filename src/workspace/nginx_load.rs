//! Loading nginx configurations into the [`NginxModel`]: each root file with everything it
//! includes, and each fragment that no root reached, in the context its content implies.

use super::source::StackSource;
use super::{LoadError, Workspace};
use crate::model::hash::FastMap;
use crate::model::nginx::{
    intern_name, Arg, Args, BlockId, BlockKind, Directive, Indent, Name, NginxModel,
};
use crate::source::{FileId, FileKind, Files, SourceFile};
use crate::syntax::nginx::{walk, Children, DirectiveEnd, NginxTree, VisitedFile, WalkOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many directives a model may hold beyond those its files hold themselves: a file
/// that includes another twice, which includes another twice, … grows exponentially. A
/// configuration past it is refused whole, never checked in part.
const MAX_REPEATED_DIRECTIVES: usize = 4_000_000;

/// Include chains deeper than this are cut (nginx itself has no limit, but such a chain is
/// almost surely a cycle through different paths to one file).
const MAX_INCLUDE_DEPTH: usize = 64;

/// One parsed file of a walk, with its id in the run's files (which hold its text).
struct Loaded {
    file: FileId,
    tree: NginxTree,
    /// What each of its directives gives the model, by tree directive id.
    templates: Templates,
}

/// Load the nginx root `main` with its includes into `ws`. Returns the ids of every file
/// the walk reached (the root included).
pub fn load_root(
    ws: &mut Workspace,
    source: &mut StackSource,
    main: &Path,
    prefix: Option<&Path>,
) -> Vec<FileId> {
    load_as(ws, source, main, prefix, BlockKind::Main)
}

/// Load `main` with its includes, its top level being a block of `kind`.
fn load_as(
    ws: &mut Workspace,
    source: &mut StackSource,
    main: &Path,
    prefix: Option<&Path>,
    kind: BlockKind,
) -> Vec<FileId> {
    let mut raw: Vec<VisitedFile> = Vec::new();
    // The model reads directives only: the token streams need not be kept.
    // Each file's templates are made by the thread that parsed it, as soon as it did.
    // The walk's record keeps only the include graph: each include's own error is taken
    // from its file below, and patterns and contexts are not needed here.
    let options = WalkOptions {
        directives_only: true,
        prepare: Some(prepare_templates),
        slim_includes: true,
        ..WalkOptions::default()
    };
    let result = match walk(main, prefix, source, options, &mut |v| raw.push(v)) {
        Ok(r) => r,
        Err(e) => {
            ws.errors.push(LoadError::Unreadable {
                path: main.to_path_buf(),
                message: format!("cannot read {}: {e}", main.display()),
            });
            return Vec::new();
        }
    };
    let mut visited: Vec<Option<Loaded>> = Vec::new();
    let mut ids: Vec<FileId> = Vec::with_capacity(raw.len());
    ws.files.reserve(raw.len());
    ws.kinds.reserve(raw.len());
    let mut include_errors: Vec<(FileId, crate::source::TextRange, String)> = Vec::new();
    for v in raw {
        let templates = match v.prepared.map(|p| p.downcast::<Templates>()) {
            Some(Ok(t)) => *t,
            _ => file_templates(&v.text, &v.tree),
        };
        let file = ws.add_file(source.map(&v.path), v.text, FileKind::Nginx);
        if visited.len() <= v.index {
            visited.resize_with(v.index + 1, || None);
        }
        ids.push(file);
        include_errors.extend(
            v.includes
                .into_iter()
                .filter_map(|inc| Some((file, inc.range, inc.error?))),
        );
        visited[v.index] = Some(Loaded {
            file,
            tree: v.tree,
            templates,
        });
    }
    // Syntax errors of every file (once per file, however often it is reached).
    for l in visited.iter().flatten() {
        ws.record_nginx_syntax(l.file, &l.tree);
        let text = &ws.files.get(l.file).text;
        if l.tree
            .comments()
            .iter()
            .any(|c| crate::suppress::is_marked(&text[c.as_range()]))
        {
            let items: Vec<_> = l.tree.all(text).map(|d| d.span()).collect();
            ws.record_suppressions(l.file, l.tree.comments(), &items);
        }
    }
    // Include problems, reported at the include directive.
    for (file, range, msg) in include_errors {
        ws.push_load_problem(file, range, msg);
    }
    for (inc_idx, msg) in result.cycles() {
        let inc = &result.includes[inc_idx];
        if let Some(Some(from)) = visited.get(inc.from) {
            ws.push_load_problem(from.file, inc.range, msg);
        }
    }
    for u in &result.unreadable {
        // The include that reached it carries no error; say it at each include.
        for inc in result
            .includes
            .iter()
            .filter(|i| i.targets.contains(&u.index))
        {
            if let Some(Some(from)) = visited.get(inc.from) {
                ws.push_load_problem(from.file, inc.range, u.message.clone());
            }
        }
    }
    // Which files each include directive pulls in, by (file index, directive id).
    let mut targets: FastMap<(usize, u32), &[usize]> = FastMap::default();
    targets.reserve(result.includes.len());
    for inc in &result.includes {
        targets
            .entry((inc.from, inc.directive.0))
            .or_insert(&inc.targets);
    }
    if matches!(visited.first(), Some(Some(_))) {
        let mut model = std::mem::take(&mut ws.stack.nginx);
        // The rare indentations that are not a run of spaces or of tabs are kept once by
        // the model; the templates then say where.
        for t in visited.iter_mut().flatten().map(|l| &mut l.templates) {
            for (id, other) in std::mem::take(&mut t.other_indents) {
                if let Some(t) = t.list.get_mut(id as usize) {
                    t.indent = model.intern_indent(other.as_bytes());
                }
            }
        }
        // Room for the whole expansion at once: growing a list of 100 000 directives
        // step by step copies it again and again, into fresh memory each time.
        let expected = expanded_count(&visited, &result.includes);
        let own: usize = visited
            .iter()
            .flatten()
            .map(|l| l.tree.directive_count())
            .fold(0, usize::saturating_add);
        let limit = own.saturating_add(MAX_REPEATED_DIRECTIVES);
        if let Some(Some(root)) = visited.first() {
            let built = if expected > limit {
                Err(Cut::Directives(expected))
            } else {
                model.directives.reserve(expected);
                build_model(&mut model, &ws.files, &visited, &targets, root, kind, limit)
            };
            if let Err(cut) = built {
                let path = ws.files.get(root.file).display_path();
                let why = match cut {
                    Cut::Directives(n) => format!(
                        "its includes expand it to {n} directives, more than the \
                         {MAX_REPEATED_DIRECTIVES} repeats gatelint models beyond the {own} its \
                         files hold (a file included many times over)"
                    ),
                    Cut::Depth(file, range) => {
                        let f = ws.files.get(file);
                        let at = f.line_col(range.start);
                        format!(
                            "the include at {}:{}:{} is nested more than \
                             {MAX_INCLUDE_DEPTH} files deep",
                            f.display_path(),
                            at.line,
                            at.column
                        )
                    }
                };
                ws.errors.push(LoadError::TooLarge {
                    path: ws.files.get(root.file).path.clone(),
                    message: format!("{path}: not checked: {why}"),
                });
                model = NginxModel::default();
            }
        }
        ws.stack.nginx = model;
    }
    // The trees and the walk's record are not needed any more. Freeing 2 000 trees, most
    // of them made on other threads, costs more than recording their problems did: a
    // process that exits after the run leaves them to the exit.
    drop(targets);
    crate::cli::release((visited, result));
    ids
}

/// How many directives expanding the root (file 0) makes: each file's own, plus those of
/// the files its includes pull in, counted once per inclusion. Chains deeper than
/// [`MAX_INCLUDE_DEPTH`] (and cycles) count nothing past the cut, as the expansion does.
fn expanded_count(
    visited: &[Option<Loaded>],
    includes: &[crate::syntax::nginx::include::Include],
) -> usize {
    let n = visited.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for inc in includes {
        if let Some(e) = edges.get_mut(inc.from) {
            e.extend(inc.targets.iter().copied().filter(|t| *t < n));
        }
    }
    let own = |i: usize| visited[i].as_ref().map_or(0, |l| l.tree.directive_count());
    // Totals by file, computed children first with an explicit stack (no recursion).
    let mut total: Vec<Option<usize>> = vec![None; n];
    let mut on_path = vec![false; n];
    let mut stack: Vec<(usize, usize)> = Vec::new();
    if n > 0 {
        stack.push((0, 0));
        on_path[0] = true;
    }
    while let Some(&mut (file, ref mut next)) = stack.last_mut() {
        if let Some(&t) = edges[file].get(*next) {
            *next += 1;
            if total[t].is_none() && !on_path[t] && stack.len() < MAX_INCLUDE_DEPTH {
                on_path[t] = true;
                stack.push((t, 0));
            }
            continue;
        }
        let sum = own(file).saturating_add(
            edges[file]
                .iter()
                .map(|&t| total[t].unwrap_or(0))
                .fold(0usize, usize::saturating_add),
        );
        total[file] = Some(sum);
        on_path[file] = false;
        stack.pop();
    }
    total.first().copied().flatten().unwrap_or(0)
}

/// Load a fragment that no root included, in the context its content implies (or its
/// `# gatelint: context …` comment names), with relative includes resolved against the
/// prefix its place implies (see [`fragment_prefix`]) unless one is given.
pub fn load_fragment(
    ws: &mut Workspace,
    source: &mut StackSource,
    path: &Path,
    prefix: Option<&Path>,
) -> Vec<FileId> {
    let text = match crate::syntax::nginx::FileSource::read(source, path) {
        Ok(t) => t,
        Err(e) => {
            ws.errors.push(LoadError::Unreadable {
                path: path.to_path_buf(),
                message: format!("cannot read {}: {e}", path.display()),
            });
            return Vec::new();
        }
    };
    let prefix = prefix
        .map(Path::to_path_buf)
        .unwrap_or_else(|| fragment_prefix(source, path));
    let kind = match declared_context(&text) {
        Some(k) => k,
        None => {
            let mut seen = Vec::new();
            implied_context(source, &prefix, path, &text, &mut seen, 0).unwrap_or(BlockKind::Http)
        }
    };
    load_as(ws, source, path, Some(&prefix), kind)
}

/// Folders whose files nginx's main file includes: their parent is the prefix that the
/// files' relative includes (`include fastcgi_params;`) are resolved against.
const LAYOUT_FOLDERS: [&str; 12] = [
    "conf.d",
    "sites-available",
    "sites-enabled",
    "snippets",
    "modules-available",
    "modules-enabled",
    "http.d",
    "stream.d",
    "vhosts.d",
    "vhosts",
    "servers",
    "default.d",
];

/// The nginx prefix for a fragment, as nginx would have it (the folder of its main file):
/// the nearest folder above it that holds an `nginx.conf`; else the folder above the
/// nearest layout folder it sits in (`deploy/nginx/conf.d/x` → `deploy/nginx`); else the
/// nearest folder named `nginx`; else the fragment's own folder.
pub fn fragment_prefix(source: &StackSource, path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    let ancestors = || dir.ancestors().filter(|a| !a.as_os_str().is_empty());
    let has_main = |a: &Path| source.check_path(&a.join("nginx.conf")).is_ok();
    if let Some(a) = ancestors().find(|a| has_main(a)) {
        return a.to_path_buf();
    }
    if dir.as_os_str().is_empty() && has_main(Path::new(".")) {
        return PathBuf::new();
    }
    // In a copy of a machine without its main file, the packaged one stands there.
    if source.root.is_some() {
        let prefix = source.profile.map_or("/etc/nginx", |p| p.nginx_prefix);
        return source.map(Path::new(prefix));
    }
    for a in ancestors() {
        if a.file_name()
            .is_some_and(|n| LAYOUT_FOLDERS.iter().any(|l| n == *l))
        {
            return a.parent().unwrap_or(Path::new("")).to_path_buf();
        }
    }
    if let Some(a) = ancestors().find(|a| a.file_name().is_some_and(|n| n == "nginx")) {
        return a.to_path_buf();
    }
    dir.to_path_buf()
}

/// The context a `# gatelint: context http,server` comment names: the nesting of blocks
/// the fragment is written for, innermost last.
fn declared_context(text: &[u8]) -> Option<BlockKind> {
    for line in text.split(|b| *b == b'\n') {
        let l = String::from_utf8_lossy(line);
        let Some(rest) = l.trim().strip_prefix('#') else {
            continue;
        };
        let Some(list) = rest.trim().strip_prefix("gatelint:") else {
            continue;
        };
        let Some(list) = list.trim().strip_prefix("context") else {
            continue;
        };
        let last = list.split(',').map(str::trim).rfind(|s| !s.is_empty())?;
        return Some(match last {
            "main" => BlockKind::Main,
            "events" => BlockKind::Events,
            "http" => BlockKind::Http,
            "server" => BlockKind::Server,
            "location" => BlockKind::Location,
            "upstream" => BlockKind::Upstream,
            "stream" => BlockKind::Stream,
            "mail" => BlockKind::Mail,
            _ => return None,
        });
    }
    None
}

/// How deep [`implied_context`] follows a fragment's includes.
const MAX_IMPLIED_DEPTH: usize = 8;

/// The outermost context of main, http, server and location in which every top-level
/// directive of a fragment is allowed (an `include` asks for what its files ask for);
/// when none allows them all, the one that allows most. `None` when the fragment says
/// nothing (only comments, unknown directives or includes of nothing).
fn implied_context(
    source: &mut StackSource,
    prefix: &Path,
    path: &Path,
    text: &[u8],
    seen: &mut Vec<PathBuf>,
    depth: usize,
) -> Option<BlockKind> {
    use crate::model::nginx_directives::{lookup, Context};
    const ORDER: [(Context, BlockKind); 4] = [
        (Context::Main, BlockKind::Main),
        (Context::Http, BlockKind::Http),
        (Context::Server, BlockKind::Server),
        (Context::Location, BlockKind::Location),
    ];
    let mut masks: Vec<u32> = Vec::new();
    let tree = crate::syntax::nginx::parse(text);
    seen.push(path.to_path_buf());
    for d in tree.roots(text) {
        let name = d.name();
        if name == "include" {
            if depth >= MAX_IMPLIED_DEPTH {
                continue;
            }
            let Some(arg) = d.arg(0) else { continue };
            let pattern = arg.value();
            let resolved = crate::syntax::nginx::include::join_prefix(prefix, &pattern);
            let files = if crate::syntax::nginx::include::has_glob_magic(&pattern) {
                source.glob_paths(&resolved).unwrap_or_default()
            } else {
                vec![resolved]
            };
            for f in files {
                let f = source.map(&f);
                if seen.contains(&f) {
                    continue;
                }
                let Ok(t) = crate::syntax::nginx::FileSource::read(source, &f) else {
                    continue;
                };
                if let Some(k) = implied_context(source, prefix, &f, &t, seen, depth + 1) {
                    if let Some((c, _)) = ORDER.iter().find(|(_, b)| *b == k) {
                        masks.push(c.bit());
                    }
                }
            }
            continue;
        }
        let specs = lookup(&name);
        if specs.is_empty() {
            continue;
        }
        masks.push(specs.iter().fold(0, |m, s| m | s.contexts));
    }
    if masks.is_empty() {
        return None;
    }
    let allowed = |c: Context| masks.iter().filter(|m| *m & c.bit() != 0).count();
    if let Some((_, k)) = ORDER.iter().find(|(c, _)| allowed(*c) == masks.len()) {
        return Some(*k);
    }
    ORDER
        .iter()
        .max_by_key(|(c, _)| allowed(*c))
        .map(|(_, k)| *k)
}

/// One level of the expansion: the directives of `iter` go into `block`.
struct Frame<'a> {
    loaded: &'a Loaded,
    text: &'a [u8],
    index: usize,
    iter: Children<'a>,
    block: BlockId,
    /// The include chain that led here (for cycle cuts): an index into the links.
    chain: u32,
}

/// One file of an include chain: the chains of one expansion form a tree, kept as one
/// list of links (no list per included file).
struct ChainLink {
    /// The file's index.
    file: usize,
    /// The link of the file that included it (`None` for the root).
    up: Option<u32>,
    /// How many files the chain holds, this one included.
    depth: usize,
}

/// True when the chain ending at link `at` holds file `file`.
fn chain_holds(links: &[ChainLink], mut at: u32, file: usize) -> bool {
    loop {
        let link = &links[at as usize];
        if link.file == file {
            return true;
        }
        match link.up {
            Some(up) => at = up,
            None => return false,
        }
    }
}

/// Why a model was not built whole.
enum Cut {
    /// The expansion makes this many directives, past the limit.
    Directives(usize),
    /// An include (in this file, at this range) nests past [`MAX_INCLUDE_DEPTH`].
    Depth(FileId, crate::source::TextRange),
}

/// Expand the root file and its includes into a new main block of `model`, without
/// recursion (any nesting depth is safe). An error, with the model part built, when the
/// expansion would pass `limit` directives or nest past [`MAX_INCLUDE_DEPTH`].
fn build_model(
    model: &mut NginxModel,
    files: &Files,
    visited: &[Option<Loaded>],
    targets: &FastMap<(usize, u32), &[usize]>,
    root: &Loaded,
    kind: BlockKind,
    limit: usize,
) -> Result<(), Cut> {
    let root_text: &[u8] = &files.get(root.file).text;
    let end = root_text.len() as u32;
    let main = model.add_block(kind, None, root.file, 0, end);
    if is_crlf(root_text) {
        model.crlf_files.insert(root.file);
    }
    let mut links = vec![ChainLink {
        file: 0,
        up: None,
        depth: 1,
    }];
    let mut stack = vec![Frame {
        loaded: root,
        text: root_text,
        index: 0,
        iter: root.tree.roots(root_text),
        block: main,
        chain: 0,
    }];
    while let Some(frame) = stack.last_mut() {
        let Some(d) = frame.iter.next() else {
            stack.pop();
            continue;
        };
        if model.directives.len() >= limit {
            return Err(Cut::Directives(limit + 1));
        }
        let loaded = frame.loaded;
        let text = frame.text;
        let index = frame.index;
        let block = frame.block;
        let Some(t) = loaded.templates.list.get(d.id().0 as usize) else {
            continue;
        };
        // The name starts the directive: its length is all the model keeps of its place.
        debug_assert_eq!(d.name_word().range().start, d.span().start);
        let id = model.add_directive(Directive {
            name: t.name.clone(),
            name_len: d.name_word().range().len(),
            args: t.args.clone(),
            file: loaded.file,
            range: d.span(),
            parent: block,
            block: None,
            indent: t.indent,
        });
        let name: &str = &t.name;
        match d.end() {
            DirectiveEnd::Block { open, close } => {
                let parent_kind = model.block(block).kind;
                let kind = BlockKind::of(name, parent_kind);
                let close = close.map_or(text.len() as u32, |c| c.start);
                let b = model.add_block(kind, Some(block), loaded.file, open.start, close);
                model.set_block(id, b);
                let chain = stack.last().map_or(0, |f| f.chain);
                stack.push(Frame {
                    loaded,
                    text,
                    index,
                    iter: d.children(),
                    block: b,
                    chain,
                });
            }
            DirectiveEnd::LuaBlock { open, close, .. } => {
                let close = close.map_or(text.len() as u32, |c| c.start);
                let b = model.add_block(
                    BlockKind::Other,
                    Some(block),
                    loaded.file,
                    open.start,
                    close,
                );
                model.set_block(id, b);
            }
            _ if name == "include" => {
                let Some(list) = targets.get(&(index, d.id().0)) else {
                    continue;
                };
                let chain = stack.last().map_or(0, |f| f.chain);
                let depth = links[chain as usize].depth;
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(Cut::Depth(loaded.file, d.span()));
                }
                // Push in reverse so the first target is expanded first.
                for &t in list.iter().rev() {
                    if chain_holds(&links, chain, t) {
                        continue;
                    }
                    let Some(Some(inc)) = visited.get(t) else {
                        continue;
                    };
                    let inc_text: &[u8] = &files.get(inc.file).text;
                    if is_crlf(inc_text) {
                        model.crlf_files.insert(inc.file);
                    }
                    links.push(ChainLink {
                        file: t,
                        up: Some(chain),
                        depth: depth + 1,
                    });
                    stack.push(Frame {
                        loaded: inc,
                        text: inc_text,
                        index: t,
                        iter: inc.tree.roots(inc_text),
                        block,
                        chain: (links.len() - 1) as u32,
                    });
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// What a directive of a file gives every model directive made from it, however often
/// the file is included (fastcgi_params in every vhost): built once per file.
struct Template {
    name: Name,
    args: Args,
    indent: Indent,
}

/// The templates of one file's directives, by tree directive id.
#[derive(Default)]
struct Templates {
    list: Vec<Template>,
    /// The indentations that are not a run of spaces or of tabs (rare), by directive id,
    /// until the model keeps them (then the template's `indent` says where). Kept aside
    /// so that every other template stays small.
    other_indents: Vec<(u32, String)>,
}

/// A template before its file's argument list is complete: where its arguments are.
struct Part {
    name: Name,
    indent: Indent,
    args: std::ops::Range<u32>,
}

/// The templates of every directive of one file, by tree directive id.
fn file_templates(text: &[u8], tree: &NginxTree) -> Templates {
    // One UTF-8 check of the whole file spares one per word.
    let whole = std::str::from_utf8(text).ok();
    // Every argument of the file in one list; each directive keeps its range.
    // Each directive has one name word; the other words are arguments.
    let arg_count = tree.word_count().saturating_sub(tree.directive_count());
    let mut all: Vec<Arg> = Vec::with_capacity(arg_count);
    let mut parts: Vec<Part> = Vec::with_capacity(tree.directive_count());
    // Runs of one name (`fastcgi_param` after `fastcgi_param`) are looked up once.
    let mut last: Option<(&str, Name)> = None;
    let mut other_indents = Vec::new();
    for d in tree.all(text) {
        let start = all.len();
        all.extend(d.args().map(|w| Arg {
            value: match whole.and_then(|t| w.str_in(t)) {
                Some(s) => compact_str::CompactString::from(s),
                None => compact_str::CompactString::from(w.as_str()),
            },
            range: w.range(),
            quoted: w.quote() != crate::syntax::nginx::Quote::None,
        }));
        let name_word = d.name_word();
        let indent = match d.indentation() {
            None => Indent::None,
            Some(bytes) => Indent::common(bytes).unwrap_or_else(|| {
                other_indents.push((d.id().0, String::from_utf8_lossy(bytes).into_owned()));
                Indent::None
            }),
        };
        let name = match whole.and_then(|t| name_word.str_in(t)) {
            Some(n) => match &last {
                Some((prev, name)) if *prev == n => name.clone(),
                _ => {
                    let name = intern_name(n);
                    last = Some((n, name.clone()));
                    name
                }
            },
            None => intern_name(&name_word.as_str()),
        };
        parts.push(Part {
            name,
            indent,
            args: start as u32..all.len() as u32,
        });
    }
    // The list is shared once it is complete: each template takes its range.
    let all = Arc::new(all);
    let list = parts
        .into_iter()
        .map(|p| Template {
            name: p.name,
            args: Args::range_of(&all, p.args.start as usize, p.args.end as usize),
            indent: p.indent,
        })
        .collect();
    Templates {
        list,
        other_indents,
    }
}

/// [`file_templates`] as the walk's [`Prepare`](crate::syntax::nginx::Prepare): made by
/// the thread that parsed the file (reading ahead, another core), while it is in the cache.
fn prepare_templates(text: &[u8], tree: &NginxTree) -> crate::syntax::nginx::Prepared {
    Some(Box::new(file_templates(text, tree)))
}

/// True when the text's first line ends in CRLF.
fn is_crlf(text: &[u8]) -> bool {
    text.iter()
        .position(|b| *b == b'\n')
        .is_some_and(|i| i > 0 && text[i - 1] == b'\r')
}

/// Parse one nginx text and say whether it has no syntax error (for the fix loop).
pub fn parses(file: &SourceFile) -> bool {
    crate::syntax::nginx::parse(&file.text).errors.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::nginx::WalkOptions;

    #[test]
    fn the_expansion_is_counted_before_it_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let files = [
            (
                "nginx.conf",
                "events {}\nhttp {\n  server { include a.conf; listen 80; }\n  server { include a.conf; }\n  include loop.conf;\n}\n",
            ),
            ("a.conf", "location / { include b.conf; }\nindex i;\n"),
            ("b.conf", "fastcgi_param A b;\nfastcgi_param C d;\n"),
            ("loop.conf", "include loop.conf;\nmap $a $b { default 0; }\n"),
        ];
        for (name, text) in files {
            std::fs::write(d.join(name), text).unwrap();
        }
        let main = d.join("nginx.conf");
        let mut source = StackSource::new(None);
        let mut visited: Vec<Option<Loaded>> = Vec::new();
        let result = crate::syntax::nginx::walk(
            &main,
            None,
            &mut source,
            WalkOptions::default(),
            &mut |v| {
                if visited.len() <= v.index {
                    visited.resize_with(v.index + 1, || None);
                }
                visited[v.index] = Some(Loaded {
                    file: FileId(v.index as u32),
                    tree: v.tree,
                    templates: Templates::default(),
                });
            },
        )
        .unwrap();
        let counted = expanded_count(&visited, &result.includes);
        let mut ws = Workspace::default();
        let mut source = StackSource::new(None);
        load_root(&mut ws, &mut source, &main, None);
        assert_eq!(counted, ws.stack.nginx.directives.len());
        // nginx.conf 8 + twice (a.conf 3 + b.conf 2) + loop.conf 3 (its self-include cut).
        assert_eq!(counted, 8 + 2 * (3 + 2) + 3);
    }

    #[test]
    fn include_problems_are_reported_at_their_directives() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("nginx.conf"),
            "events {}\nhttp {\n  include missing.conf;\n  include a.conf;\n}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("a.conf"),
            "include also-missing.conf;\ninclude a.conf;\n",
        )
        .unwrap();
        let mut ws = Workspace::default();
        let mut source = StackSource::new(None);
        load_root(&mut ws, &mut source, &d.join("nginx.conf"), None);
        let problems: Vec<(String, String, String)> = ws
            .stack
            .problems
            .iter()
            .map(|p| {
                let f = ws.files.get(p.file);
                let at = String::from_utf8_lossy(&f.text[p.range.as_range()]).into_owned();
                let name = f.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, at, p.message.clone())
            })
            .collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(problems[0].0, "nginx.conf");
        assert_eq!(problems[0].1, "include missing.conf;");
        assert!(problems[0].2.contains("missing.conf") && problems[0].2.contains("No such file"));
        assert_eq!(problems[1].0, "a.conf");
        assert_eq!(problems[1].1, "include also-missing.conf;");
        assert!(problems[1].2.contains("also-missing.conf"));
        assert_eq!(problems[2].1, "include a.conf;");
        assert!(
            problems[2].2.contains("recursive") || problems[2].2.contains("cycle"),
            "{}",
            problems[2].2
        );
    }
}
