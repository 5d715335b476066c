//! The nginx model: every directive of a configuration with includes expanded, arranged in
//! the blocks nginx evaluates them in, with nginx's inheritance and defaults.
//!
//! A configuration tree built from several files (the main file and everything it includes)
//! becomes one arena of [`Block`]s and [`Directive`]s. An `include` stays in the block as a
//! directive of its own, and the directives of the files it names follow it in the same
//! block, so rules see the block as nginx sees it while each directive keeps its own file
//! and byte range for reports and fixes.

use crate::model::nginx_values::{parse_pass, PassError, PassKind, PassTarget};
use crate::source::{FileId, TextRange};

/// Index of a directive in a [`NginxModel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectiveId(pub u32);

/// Index of a block in a [`NginxModel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockId(pub u32);

/// The kind of a block, which decides what it inherits from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// The main context of a configuration (the top of a file that no block includes).
    Main,
    /// `events { }`.
    Events,
    /// `http { }`.
    Http,
    /// `server { }` inside `http`.
    Server,
    /// `location … { }`.
    Location,
    /// `if (…) { }` inside a server.
    ServerIf,
    /// `if (…) { }` inside a location.
    LocationIf,
    /// `limit_except … { }`.
    LimitExcept,
    /// `upstream name { }` inside `http`.
    Upstream,
    /// `stream { }`.
    Stream,
    /// `server { }` inside `stream`.
    StreamServer,
    /// `upstream name { }` inside `stream`.
    StreamUpstream,
    /// `mail { }`.
    Mail,
    /// `server { }` inside `mail`.
    MailServer,
    /// A block whose body is key/value lines, not directives: `map`, `geo`, `types`,
    /// `split_clients`, `charset_map`, `match`.
    Opaque,
    /// A block nginx does not know or that holds raw text (`*_by_lua_block`).
    Other,
}

impl BlockKind {
    /// The kind of the block opened by directive `name` inside a block of kind `parent`.
    pub fn of(name: &str, parent: BlockKind) -> BlockKind {
        use BlockKind::*;
        match (name, parent) {
            ("events", _) => Events,
            ("http", _) => Http,
            ("stream", _) => Stream,
            ("mail", _) => Mail,
            ("server", Http) => Server,
            ("server", Stream) => StreamServer,
            ("server", Mail) => MailServer,
            ("upstream", Http) => Upstream,
            ("upstream", Stream) => StreamUpstream,
            ("location", Server | Location) => Location,
            ("if", Server) => ServerIf,
            ("if", Location) => LocationIf,
            ("limit_except", Location) => LimitExcept,
            ("map" | "geo" | "types" | "split_clients" | "charset_map" | "match", _) => Opaque,
            _ => Other,
        }
    }

    /// True when directives of the parent block apply here unless this block sets them.
    pub fn inherits(self) -> bool {
        matches!(
            self,
            BlockKind::Server
                | BlockKind::Location
                | BlockKind::ServerIf
                | BlockKind::LocationIf
                | BlockKind::LimitExcept
                | BlockKind::StreamServer
                | BlockKind::MailServer
        )
    }
}

/// One argument of a directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// The value as nginx sees it (quotes removed, escapes applied), lossily decoded.
    /// Kept inline when short (most arguments are), so a model of thousands of files
    /// does not allocate once per argument.
    pub value: compact_str::CompactString,
    /// The bytes of the argument in its file, quotes included.
    pub range: TextRange,
    /// True when the argument was quoted.
    pub quoted: bool,
}

/// The arguments of one directive: a range of a list shared by the directives of one file
/// (and by every model directive made from that file, however often it is included), so
/// a configuration costs one list per file rather than one per directive. Derefs to the
/// slice of [`Arg`]s.
#[derive(Clone, Debug, Default)]
pub struct Args {
    all: std::sync::Arc<Vec<Arg>>,
    start: u32,
    end: u32,
}

impl Args {
    /// The arguments `start..end` of a file's shared list.
    pub fn range_of(all: &std::sync::Arc<Vec<Arg>>, start: usize, end: usize) -> Args {
        let end = end.min(all.len());
        Args {
            all: std::sync::Arc::clone(all),
            start: start.min(end) as u32,
            end: end as u32,
        }
    }
}

impl std::ops::Deref for Args {
    type Target = [Arg];

    fn deref(&self) -> &[Arg] {
        &self.all[self.start as usize..self.end as usize]
    }
}

impl From<Vec<Arg>> for Args {
    fn from(all: Vec<Arg>) -> Args {
        let end = all.len() as u32;
        Args {
            all: std::sync::Arc::new(all),
            start: 0,
            end,
        }
    }
}

impl PartialEq for Args {
    fn eq(&self, other: &Args) -> bool {
        **self == **other
    }
}

impl Eq for Args {}

/// One directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The directive name (a reference into nginx's directive table when it is a known
    /// name, so the common names are not allocated once per directive).
    pub name: Name,
    /// The length of the name in bytes (quotes included): the name starts the directive,
    /// so this is all [`Directive::name_range`] needs, and a model of 100 000 directives
    /// stays at 64 bytes each.
    pub name_len: u32,
    /// The arguments (shared by every expansion of a file that is included many times).
    pub args: Args,
    /// The file the directive is written in.
    pub file: FileId,
    /// The whole directive, from its name to its `;` or closing `}`.
    pub range: TextRange,
    /// The block the directive stands in.
    pub parent: BlockId,
    /// The block the directive opens, if it is a block directive.
    pub block: Option<BlockId>,
    /// The whitespace before the directive on its line, when it starts a line; new
    /// sibling lines take it. Read it with [`NginxModel::indent`].
    pub indent: Indent,
}

impl Directive {
    /// The bytes of the name.
    pub fn name_range(&self) -> TextRange {
        TextRange::new(
            self.range.start,
            self.range.start.saturating_add(self.name_len),
        )
    }

    /// The value of argument `i`, if present.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|a| a.value.as_str())
    }
}

/// One block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// What kind of block it is.
    pub kind: BlockKind,
    /// The directive that opens it (`None` for a main context).
    pub directive: Option<DirectiveId>,
    /// The enclosing block.
    pub parent: Option<BlockId>,
    /// The file of the block's opening (of its first item for a main context).
    pub file: FileId,
    /// Byte offset of the `{` (the block's body starts after it); 0 for a main context.
    pub open: u32,
    /// Byte offset of the `}`; the file's length for a main context.
    pub close: u32,
}

/// The [`Name::known_key`] of the name `name`, when nginx knows it.
pub fn key_of(name: &str) -> Option<u16> {
    crate::model::nginx_directives::lookup(name)
        .first()
        .map(crate::model::nginx_directives::table_index)
}

/// `name` as a directive name: the table's entry when nginx knows the name, else an owned
/// copy.
pub fn intern_name(name: &str) -> Name {
    match crate::model::nginx_directives::lookup(name).first() {
        Some(spec) => Name::Known(spec),
        None => Name::Other(std::sync::Arc::new(name.to_owned())),
    }
}

/// A directive's name. A model holds one per directive (100 000 for a large site), so it
/// is two words: names nginx knows point at their entry of the directive table (whose
/// index also identifies them); other names are a shared owned string.
#[derive(Clone)]
pub enum Name {
    /// A name of nginx's directive table.
    Known(&'static crate::model::nginx_directives::DirectiveSpec),
    /// Any other name.
    Other(std::sync::Arc<String>),
}

impl Name {
    /// The name's text.
    pub fn as_str(&self) -> &str {
        match self {
            Name::Known(spec) => spec.name,
            Name::Other(s) => s.as_str(),
        }
    }

    /// For a name nginx knows, the index of its entry in the directive table, which
    /// identifies it (see [`key_of`]).
    pub fn known_key(&self) -> Option<u16> {
        match self {
            Name::Known(spec) => Some(crate::model::nginx_directives::table_index(spec)),
            Name::Other(_) => None,
        }
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The whitespace before a directive on its line. Runs of spaces or of tabs (nearly every
/// indentation) are a count; any other run is kept once in the model
/// ([`NginxModel::intern_indent`]) and read with [`NginxModel::indent`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Indent {
    /// The directive does not start its line.
    #[default]
    None,
    /// That many spaces.
    Spaces(u16),
    /// That many tabs.
    Tabs(u16),
    /// Another run of whitespace: an index into the model's list (16 bits keep a
    /// directive small; a configuration with more distinct odd indentations than that
    /// has the later ones inserted as none).
    Other(u16),
}

/// The longest runs of spaces and of tabs that [`Indent`] counts.
const SPACES: &str = "                                                                ";
const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

impl Indent {
    /// The indentation `bytes` as a count when it is a run of spaces or of tabs short
    /// enough to be read back from a constant; `None` for any other run.
    pub fn common(bytes: &[u8]) -> Option<Indent> {
        if bytes.len() <= SPACES.len() && bytes.iter().all(|b| *b == b' ') {
            return Some(Indent::Spaces(bytes.len() as u16));
        }
        if bytes.len() <= TABS.len() && bytes.iter().all(|b| *b == b'\t') {
            return Some(Indent::Tabs(bytes.len() as u16));
        }
        None
    }
}

/// Every nginx configuration of one run, as one arena.
#[derive(Clone, Debug, Default)]
pub struct NginxModel {
    /// All directives.
    pub directives: Vec<Directive>,
    /// All blocks.
    pub blocks: Vec<Block>,
    /// The main block of each configuration (a root file, or a fragment that no root reached).
    pub roots: Vec<BlockId>,
    /// Files whose lines end in CRLF: lines a fix inserts there end the same way.
    pub crlf_files: std::collections::HashSet<FileId>,
    /// The indentations that are not a run of spaces or of tabs ([`Indent::Other`]).
    indents: Vec<String>,
    /// (http block, lowercased name) → upstream block, built on first use: configurations
    /// with thousands of upstreams are looked up once per `*_pass`.
    upstream_index: std::sync::OnceLock<UpstreamIndex>,
    /// Directives by name in each block with more than [`BIG_BLOCK`] items, built on first use
    /// (after loading: the model is not changed once rules run).
    big_block_index: std::sync::OnceLock<BigBlockIndex>,
    /// Directive name → every directive of that name, built on first use.
    name_index: std::sync::OnceLock<NameIndex>,
    /// Every `*_pass` directive with its parsed first argument, built on first use: many
    /// rules start from the pass targets.
    pass_targets: std::sync::OnceLock<Vec<(DirectiveId, Option<PassParse>)>>,
    /// Each block's directives, built on first use (and dropped when the model grows).
    item_index: std::sync::OnceLock<ItemIndex>,
}

/// The directives of every block in one array: block `b`'s are
/// `ids[start[b]..start[b + 1]]`, in reading order. One array instead of a list per block
/// saves thousands of small allocations while a model is built.
#[derive(Clone, Debug, Default)]
struct ItemIndex {
    start: Vec<u32>,
    ids: Vec<DirectiveId>,
}

/// http block → lowercased upstream name → the upstream block.
type UpstreamIndex =
    crate::model::hash::FastMap<BlockId, crate::model::hash::FastMap<String, BlockId>>;

/// What parsing a `*_pass` argument gave.
pub type PassParse = Result<PassTarget, PassError>;

/// Directive name → every directive of that name. Names nginx knows are keyed by their
/// table entry ([`Name::known_key`]); other names by their text.
#[derive(Clone, Debug, Default)]
struct NameIndex {
    known: crate::model::hash::FastMap<u16, Vec<DirectiveId>>,
    other: crate::model::hash::FastMap<String, Vec<DirectiveId>>,
}

/// Blocks with more items than this are looked up through an index.
const BIG_BLOCK: usize = 64;

/// Block → directive name → the block's directives of that name, in order.
type BigBlockIndex =
    crate::model::hash::FastMap<BlockId, crate::model::hash::FastMap<String, Vec<DirectiveId>>>;

/// Append `id` to the list of `name` in `map`, allocating the key only for a new name.
fn push_named(
    map: &mut crate::model::hash::FastMap<String, Vec<DirectiveId>>,
    name: &str,
    id: DirectiveId,
) {
    match map.get_mut(name) {
        Some(list) => list.push(id),
        None => {
            map.insert(name.to_owned(), vec![id]);
        }
    }
}

/// Directives whose several occurrences at one level add up, and which are inherited only
/// when the inner level has none of them.
pub const ARRAY_DIRECTIVES: &[&str] = &[
    "add_header",
    "add_trailer",
    "proxy_set_header",
    "proxy_hide_header",
    "proxy_pass_header",
    "fastcgi_param",
    "fastcgi_hide_header",
    "fastcgi_pass_header",
    "uwsgi_param",
    "scgi_param",
    "grpc_set_header",
    "error_page",
    "access_log",
    "log_not_found",
    "allow",
    "deny",
    "try_files",
    "proxy_next_upstream",
    "fastcgi_next_upstream",
    "ssl_certificate",
    "ssl_certificate_key",
];

impl NginxModel {
    /// An empty model.
    pub fn new() -> Self {
        NginxModel::default()
    }

    /// The directive with this id.
    pub fn directive(&self, id: DirectiveId) -> &Directive {
        &self.directives[id.0 as usize]
    }

    /// The block with this id.
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0 as usize]
    }

    /// Open a new block inside `parent` (or a main block when `parent` is `None`).
    pub fn add_block(
        &mut self,
        kind: BlockKind,
        parent: Option<BlockId>,
        file: FileId,
        open: u32,
        close: u32,
    ) -> BlockId {
        let id = BlockId(self.blocks.len() as u32);
        self.item_index.take();
        self.blocks.push(Block {
            kind,
            directive: None,
            parent,
            file,
            open,
            close,
        });
        if parent.is_none() {
            self.roots.push(id);
        }
        id
    }

    /// Add a directive at the end of `parent`'s items.
    pub fn add_directive(&mut self, d: Directive) -> DirectiveId {
        let id = DirectiveId(self.directives.len() as u32);
        self.directives.push(d);
        self.item_index.take();
        id
    }

    /// The directives written in `block`, in nginx's reading order (includes expanded).
    pub fn items(&self, block: BlockId) -> &[DirectiveId] {
        let index = self.item_index.get_or_init(|| self.build_item_index());
        let b = block.0 as usize;
        match (index.start.get(b), index.start.get(b + 1)) {
            (Some(&s), Some(&e)) => &index.ids[s as usize..e as usize],
            _ => &[],
        }
    }

    /// Group the directives by block: a counting sort on the parent, which keeps the
    /// reading order (directive ids are given in reading order).
    fn build_item_index(&self) -> ItemIndex {
        let n = self.blocks.len();
        let mut start = vec![0u32; n + 1];
        for d in &self.directives {
            let p = d.parent.0 as usize;
            if p < n {
                start[p + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut ids = vec![DirectiveId(0); start[n] as usize];
        for (i, d) in self.directives.iter().enumerate() {
            let p = d.parent.0 as usize;
            if p < n {
                ids[fill[p] as usize] = DirectiveId(i as u32);
                fill[p] += 1;
            }
        }
        ItemIndex { start, ids }
    }

    /// Link a block directive to the block it opens.
    pub fn set_block(&mut self, directive: DirectiveId, block: BlockId) {
        self.directives[directive.0 as usize].block = Some(block);
        self.blocks[block.0 as usize].directive = Some(directive);
    }

    /// The directives named `name` written directly in `block` (includes expanded).
    pub fn here<'a>(
        &'a self,
        block: BlockId,
        name: &'a str,
    ) -> impl Iterator<Item = DirectiveId> + 'a {
        let items = self.items(block);
        // Big blocks (an http block holding thousands of servers) are looked up through an
        // index built once, so inheritance lookups stay linear in the configuration size.
        let (scan, indexed): (&[DirectiveId], &[DirectiveId]) = if items.len() > BIG_BLOCK {
            let index = self
                .big_block_index
                .get_or_init(|| self.build_big_block_index());
            let hits = index
                .get(&block)
                .and_then(|m| m.get(name))
                .map_or(&[][..], Vec::as_slice);
            (&[], hits)
        } else {
            (items, &[])
        };
        scan.iter()
            .copied()
            .filter(move |d| self.directive(*d).name == name)
            .chain(indexed.iter().copied())
    }

    fn build_big_block_index(&self) -> BigBlockIndex {
        let mut index = BigBlockIndex::default();
        for i in 0..self.blocks.len() {
            let items = self.items(BlockId(i as u32));
            if items.len() <= BIG_BLOCK {
                continue;
            }
            let by_name = index.entry(BlockId(i as u32)).or_default();
            for d in items {
                push_named(by_name, &self.directive(*d).name, *d);
            }
        }
        index
    }

    /// The directives named `name` in effect in `block`: those of the nearest level, going
    /// outwards through the levels nginx inherits from, that has any. For scalar directives
    /// the last one is the one nginx keeps.
    pub fn effective_all(&self, block: BlockId, name: &str) -> Vec<DirectiveId> {
        self.inherited_levels(block)
            .map(|b| self.here(b, name).collect::<Vec<_>>())
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }

    /// The directive named `name` in effect in `block` (the last of the nearest level).
    pub fn effective(&self, block: BlockId, name: &str) -> Option<DirectiveId> {
        self.inherited_levels(block)
            .find_map(|b| self.here(b, name).last())
    }

    /// `block` and the levels it inherits from, outwards (up to the first block kind
    /// that does not inherit).
    fn inherited_levels(&self, block: BlockId) -> impl Iterator<Item = BlockId> + '_ {
        std::iter::successors(Some(block), move |b| {
            let blk = self.block(*b);
            blk.kind.inherits().then_some(blk.parent).flatten()
        })
    }

    /// The blocks from `block` outwards to its main block.
    pub fn ancestors(&self, block: BlockId) -> impl Iterator<Item = BlockId> + '_ {
        std::iter::successors(Some(block), move |b| self.block(*b).parent)
    }

    /// The nearest enclosing block of `kind` (the block itself included).
    pub fn enclosing(&self, block: BlockId, kind: BlockKind) -> Option<BlockId> {
        self.ancestors(block).find(|b| self.block(*b).kind == kind)
    }

    /// The main block a block belongs to.
    pub fn main_of(&self, block: BlockId) -> BlockId {
        self.ancestors(block).last().unwrap_or(block)
    }

    /// Every directive named `name`, anywhere.
    pub fn all_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = DirectiveId> + 'a {
        self.named(name).iter().copied()
    }

    /// Every directive named `name`, in model order, through an index built on first use
    /// (rules ask for a few names each; scanning every directive per rule is quadratic in
    /// spirit on big configurations).
    pub fn named(&self, name: &str) -> &[DirectiveId] {
        let index = self.name_index.get_or_init(|| {
            let mut index = NameIndex::default();
            for (i, d) in self.directives.iter().enumerate() {
                let id = DirectiveId(i as u32);
                match d.name.known_key() {
                    Some(key) => index.known.entry(key).or_default().push(id),
                    None => push_named(&mut index.other, &d.name, id),
                }
            }
            index
        });
        let list = match key_of(name) {
            Some(key) => index.known.get(&key),
            None => index.other.get(name),
        };
        list.map_or(&[], Vec::as_slice)
    }

    /// Every `*_pass` directive (fastcgi, proxy, uwsgi, scgi, grpc, memcached), in model
    /// order.
    pub fn pass_directive_ids(&self) -> Vec<DirectiveId> {
        let mut ids: Vec<DirectiveId> = [
            "fastcgi_pass",
            "proxy_pass",
            "uwsgi_pass",
            "scgi_pass",
            "grpc_pass",
            "memcached_pass",
        ]
        .iter()
        .flat_map(|n| self.named(n).iter().copied())
        .collect();
        ids.sort();
        ids
    }

    /// Every `*_pass` directive, in model order, with what parsing its argument gave
    /// (`None` when it has no argument).
    pub fn pass_targets(&self) -> &[(DirectiveId, Option<PassParse>)] {
        self.pass_targets.get_or_init(|| {
            self.pass_directive_ids()
                .into_iter()
                .map(|id| {
                    let d = self.directive(id);
                    let parsed = PassKind::of(&d.name)
                        .zip(d.arg(0))
                        .map(|(kind, arg)| parse_pass(kind, arg));
                    (id, parsed)
                })
                .collect()
        })
    }

    /// The line ending of `file`.
    pub fn newline(&self, file: FileId) -> &'static str {
        if self.crlf_files.contains(&file) {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The whitespace before directive `d` on its line, when it starts a line.
    pub fn indent(&self, d: &Directive) -> Option<&str> {
        match d.indent {
            Indent::None => None,
            Indent::Spaces(n) => SPACES.get(..n as usize),
            Indent::Tabs(n) => TABS.get(..n as usize),
            Indent::Other(i) => self.indents.get(i as usize).map(String::as_str),
        }
    }

    /// The indentation `bytes` as an [`Indent`] of this model: a count for a run of spaces
    /// or of tabs, else the model's copy (kept once however many directives share it).
    pub fn intern_indent(&mut self, bytes: &[u8]) -> Indent {
        if let Some(common) = Indent::common(bytes) {
            return common;
        }
        let text = String::from_utf8_lossy(bytes);
        let i = match self.indents.iter().position(|s| *s == text) {
            Some(i) => i,
            None => {
                self.indents.push(text.into_owned());
                self.indents.len() - 1
            }
        };
        u16::try_from(i).map_or(Indent::None, Indent::Other)
    }

    /// The indentation for a new directive inside `block`: that of its directives, or
    /// the opening directive's indentation plus four spaces.
    pub fn child_indent(&self, block: BlockId) -> String {
        let b = self.block(block);
        if let Some(ind) = self
            .items(block)
            .iter()
            .find_map(|d| self.indent(self.directive(*d)))
        {
            return ind.to_owned();
        }
        let outer = b
            .directive
            .and_then(|d| self.indent(self.directive(d)))
            .unwrap_or_default();
        let unit = if outer.contains('\t') { "\t" } else { "    " };
        format!("{outer}{unit}")
    }

    /// The `upstream` blocks of the configuration that holds `block`, by name.
    pub fn upstream_named(&self, block: BlockId, name: &str) -> Option<BlockId> {
        self.upstream_in(self.http_of(block)?, name)
    }

    /// The http block `block` belongs to: the enclosing one (a fragment read on its own
    /// may be one), else the one of its configuration.
    pub fn http_of(&self, block: BlockId) -> Option<BlockId> {
        if let Some(h) = self.enclosing(block, BlockKind::Http) {
            return Some(h);
        }
        let main = self.main_of(block);
        self.items(main).iter().find_map(|d| {
            let d = self.directive(*d);
            (d.name == "http").then_some(d.block).flatten()
        })
    }

    /// The `upstream` block named `name` (compared without case, as nginx does) written
    /// directly in block `http` (includes expanded).
    pub fn upstream_in(&self, http: BlockId, name: &str) -> Option<BlockId> {
        let index = self.upstream_index.get_or_init(|| {
            let mut map = UpstreamIndex::default();
            for &id in self.named("upstream") {
                let d = self.directive(id);
                let (Some(b), Some(n)) = (d.block, d.arg(0)) else {
                    continue;
                };
                if self.block(b).kind == BlockKind::Upstream {
                    map.entry(d.parent)
                        .or_default()
                        .entry(n.to_ascii_lowercase())
                        .or_insert(b);
                }
            }
            map
        });
        let by_name = index.get(&http)?;
        // nginx compares upstream names without regard to case; most are lowercase already.
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            by_name.get(name.to_ascii_lowercase().as_str()).copied()
        } else {
            by_name.get(name).copied()
        }
    }
}

#[cfg(test)]
impl Directive {
    /// A directive `name args…;` in `parent`, placed nowhere in file 0 (for tests that
    /// build a model or a directive by hand).
    pub(crate) fn for_test(name: &str, args: &[&str], parent: BlockId) -> Directive {
        Directive {
            name: intern_name(name),
            name_len: 0,
            args: args
                .iter()
                .map(|a| Arg {
                    value: (*a).into(),
                    range: TextRange::default(),
                    quoted: false,
                })
                .collect::<Vec<_>>()
                .into(),
            file: FileId(0),
            range: TextRange::default(),
            parent,
            block: None,
            indent: Indent::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_starts_its_directive_and_odd_indents_are_kept_once() {
        let mut d = Directive::for_test("listen", &["80"], BlockId(0));
        d.range = TextRange::new(10, 20);
        d.name_len = 6;
        assert_eq!(d.name_range(), TextRange::new(10, 16));
        let mut m = NginxModel::new();
        assert_eq!(m.intern_indent(b"  "), Indent::Spaces(2));
        d.indent = m.intern_indent(b" \t ");
        assert_eq!(d.indent, Indent::Other(0));
        assert_eq!(m.indent(&d), Some(" \t "));
        assert_eq!(m.intern_indent(b" \t "), Indent::Other(0));
    }

    /// Build `http { X; server { Y; location / { Z; } } }` by hand.
    fn sample() -> (NginxModel, BlockId, BlockId, BlockId) {
        let mut m = NginxModel::new();
        let f = FileId(0);
        let main = m.add_block(BlockKind::Main, None, f, 0, 100);
        let mk = |m: &mut NginxModel, name: &str, args: &[&str], parent: BlockId| {
            m.add_directive(Directive::for_test(name, args, parent))
        };
        mk(&mut m, "user", &["www-data"], main);
        let http_d = mk(&mut m, "http", &[], main);
        let http = m.add_block(BlockKind::Http, Some(main), f, 0, 0);
        m.set_block(http_d, http);
        mk(&mut m, "proxy_read_timeout", &["30s"], http);
        mk(&mut m, "proxy_set_header", &["Host", "$host"], http);
        mk(&mut m, "proxy_set_header", &["X-A", "1"], http);
        let up_d = mk(&mut m, "upstream", &["app"], http);
        let up = m.add_block(BlockKind::Upstream, Some(http), f, 0, 0);
        m.set_block(up_d, up);
        let srv_d = mk(&mut m, "server", &[], http);
        let srv = m.add_block(BlockKind::Server, Some(http), f, 0, 0);
        m.set_block(srv_d, srv);
        let loc_d = mk(&mut m, "location", &["/"], srv);
        let loc = m.add_block(BlockKind::Location, Some(srv), f, 0, 0);
        m.set_block(loc_d, loc);
        mk(&mut m, "proxy_set_header", &["X-B", "2"], loc);
        (m, http, srv, loc)
    }

    #[test]
    fn a_directive_stays_small() {
        // A model of a large site holds 100 000 directives: each byte is 100 kB.
        assert_eq!(std::mem::size_of::<Name>(), 16);
        assert_eq!(std::mem::size_of::<Indent>(), 4);
        assert!(std::mem::size_of::<Directive>() <= 64);
    }

    #[test]
    fn names_compare_by_text_and_known_ones_by_table_entry() {
        let known = intern_name("proxy_pass");
        assert!(matches!(known, Name::Known(_)));
        assert_eq!(known, "proxy_pass");
        assert_eq!(known.known_key(), intern_name("proxy_pass").known_key());
        let other = intern_name("my_module_setting");
        assert!(matches!(other, Name::Other(_)));
        assert_eq!(other.known_key(), None);
        assert_eq!(&*other, "my_module_setting");
        assert_ne!(known, other);
    }

    #[test]
    fn indentations_read_back_as_written() {
        let mut m = NginxModel::new();
        let mut indent_of = |bytes: &[u8]| {
            let ind = m.intern_indent(bytes);
            let d = Directive {
                indent: ind,
                ..Directive::for_test("user", &[], BlockId(0))
            };
            (ind, m.indent(&d).map(str::to_owned))
        };
        assert_eq!(indent_of(b"    "), (Indent::Spaces(4), Some("    ".into())));
        assert_eq!(indent_of(b"\t\t"), (Indent::Tabs(2), Some("\t\t".into())));
        assert_eq!(indent_of(b""), (Indent::Spaces(0), Some(String::new())));
        let long = " ".repeat(100);
        assert_eq!(indent_of(long.as_bytes()).1.as_deref(), Some(long.as_str()));
        let (a, text) = indent_of(b"\t  ");
        assert_eq!(text.as_deref(), Some("\t  "));
        // A mixed run is kept once, however many directives share it.
        assert_eq!(indent_of(b"\t  ").0, a);
        assert_ne!(indent_of(b"  \t").0, a);
        let none = Directive::for_test("user", &[], BlockId(0));
        assert_eq!(m.indent(&none), None);
    }

    #[test]
    fn scalar_directives_inherit_outwards() {
        let (m, _, srv, loc) = sample();
        let d = m.effective(loc, "proxy_read_timeout").unwrap();
        assert_eq!(m.directive(d).arg(0), Some("30s"));
        assert!(m.effective(srv, "proxy_read_timeout").is_some());
        assert!(m.effective(loc, "proxy_connect_timeout").is_none());
    }

    #[test]
    fn array_directives_are_not_merged_across_levels() {
        let (m, _, srv, loc) = sample();
        let inner = m.effective_all(loc, "proxy_set_header");
        assert_eq!(inner.len(), 1);
        assert_eq!(m.directive(inner[0]).arg(0), Some("X-B"));
        assert_eq!(m.effective_all(srv, "proxy_set_header").len(), 2);
    }

    #[test]
    fn main_context_is_not_inherited_into_http() {
        let (m, http, _, loc) = sample();
        assert!(m.effective(loc, "user").is_none());
        assert!(m.effective(http, "user").is_none());
    }

    #[test]
    fn finds_directives_by_name_known_or_not() {
        let (mut m, http, _, _) = sample();
        m.add_directive(Directive::for_test("my_module_setting", &[], http));
        assert_eq!(m.named("proxy_set_header").len(), 3);
        assert_eq!(m.named("my_module_setting").len(), 1);
        assert!(m.named("proxy_pass").is_empty());
        assert!(m.named("not_a_directive").is_empty());
    }

    #[test]
    fn finds_upstreams_by_name() {
        let (m, _, _, loc) = sample();
        assert!(m.upstream_named(loc, "app").is_some());
        assert!(m.upstream_named(loc, "nope").is_none());
    }

    #[test]
    fn block_kinds() {
        assert_eq!(BlockKind::of("server", BlockKind::Http), BlockKind::Server);
        assert_eq!(
            BlockKind::of("server", BlockKind::Stream),
            BlockKind::StreamServer
        );
        assert_eq!(
            BlockKind::of("if", BlockKind::Location),
            BlockKind::LocationIf
        );
        assert_eq!(BlockKind::of("map", BlockKind::Http), BlockKind::Opaque);
        assert!(!BlockKind::Upstream.inherits());
    }
}
