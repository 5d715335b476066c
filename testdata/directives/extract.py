#!/usr/bin/env python3
"""Extract nginx's directive table from source and write it as Rust.

Reads the `ngx_command_t` arrays of every module of nginx (and of njs and a
set of third-party modules), the `ngx_conf_enum_t` / `ngx_conf_bitmask_t`
arrays they point to, the release tags (for "since" / "removed in") and the
nginx.org documentation XML (for NGINX Plus-only directives), and writes
`src/model/nginx_directives/table.rs`.

Every input is a bare git repository (as made by `git clone --mirror URL`);
nothing is built or run from them. Python 3 standard library only.

    python3 testdata/directives/extract.py \
        --nginx ~/mirrors/nginx.git --njs ~/mirrors/njs.git \
        --docs ~/mirrors/nginx.org.git \
        --third-party-list testdata/directives/third-party.txt --mirrors ~/mirrors \
        --out src/model/nginx_directives/table.rs \
        --crosscheck testdata/directives/since-crosscheck.txt

See NOTES.md next to this script for the sources, commits and caveats.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

# ---------------------------------------------------------------- git access


def git(gitdir, *args):
    """Run git against a bare repository and return stdout as text."""
    out = subprocess.run(
        ["git", "--git-dir=" + gitdir] + list(args),
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ).stdout
    return out.decode("utf-8", "replace")


def ls_files(gitdir, rev):
    return git(gitdir, "ls-tree", "-r", "--name-only", rev).splitlines()


def show(gitdir, rev, path):
    return git(gitdir, "show", "%s:%s" % (rev, path))


def head_commit(gitdir):
    return git(gitdir, "rev-parse", "HEAD").strip()


# ------------------------------------------------------------- C scanning


def strip_comments(text):
    """Blank out /* */ and // comments, keeping newlines and string literals."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def blank_preprocessor(text):
    """Blank preprocessor lines (#if/#endif inside arrays), keep line count."""
    lines = text.split("\n")
    res = []
    cont = False
    for line in lines:
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            res.append(" " * len(line))
        else:
            res.append(line)
    return "\n".join(res)


def split_top(s, sep=","):
    """Split on `sep` outside (), {} and string literals."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i : j + 1])
            i = j + 1
            continue
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def matching_brace(text, open_pos):
    depth, i = 0, open_pos
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


NAME_RE = re.compile(r'ngx_string\s*\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


def parse_c(text):
    """Return (commands, modules, enums, bitmasks) found in one C file.

    commands: {array: [(line, name, flags_expr, handler, post)]}
    modules:  {array: (module_name, module_type)}
    enums / bitmasks: {array: [word, ...]}
    """
    clean = blank_preprocessor(strip_comments(text))
    commands = {}
    for m in re.finditer(r"ngx_command_t\s+(\w+)\s*\[\s*\w*\s*\]\s*=\s*\{", clean):
        start = m.end() - 1
        end = matching_brace(clean, start)
        body_start = start + 1
        entries = []
        i = body_start
        while i < end:
            j = clean.find("{", i, end)
            if j < 0:
                break
            k = matching_brace(clean, j)
            fields = split_top(clean[j + 1 : k])
            nm = NAME_RE.search(fields[0]) if fields else None
            if nm and len(fields) >= 3:
                line = clean.count("\n", 0, j + nm.start()) + 1
                post = fields[5] if len(fields) > 5 else "NULL"
                entries.append((line, nm.group(1), fields[1], fields[2], post))
            i = k + 1
        commands[m.group(1)] = entries
    modules = {}
    for m in re.finditer(
        r"ngx_module_t\s+(\w+)\s*=\s*\{\s*NGX_MODULE_V1\s*,\s*([^,]+),\s*(?:\w+::)*(\w+)\s*,\s*(\w+)",
        clean,
    ):
        modules[m.group(3)] = (m.group(1), m.group(4))
    enums, bitmasks = {}, {}
    for kind, store in (("enum", enums), ("bitmask", bitmasks)):
        pat = r"ngx_conf_%s_t\s+(\w+)\s*\[\s*\]\s*=\s*\{" % kind
        for m in re.finditer(pat, clean):
            end = matching_brace(clean, m.end() - 1)
            words = NAME_RE.findall(clean[m.end() : end])
            store[m.group(1)] = words
    return commands, modules, enums, bitmasks


# ------------------------------------------------------------- flag mapping

ARG_BITS = {
    "NGX_CONF_NOARGS": ["NOARGS"],
    "NGX_CONF_TAKE1": ["TAKE1"],
    "NGX_CONF_TAKE2": ["TAKE2"],
    "NGX_CONF_TAKE3": ["TAKE3"],
    "NGX_CONF_TAKE4": ["TAKE4"],
    "NGX_CONF_TAKE5": ["TAKE5"],
    "NGX_CONF_TAKE6": ["TAKE6"],
    "NGX_CONF_TAKE7": ["TAKE7"],
    "NGX_CONF_TAKE12": ["TAKE1", "TAKE2"],
    "NGX_CONF_TAKE13": ["TAKE1", "TAKE3"],
    "NGX_CONF_TAKE23": ["TAKE2", "TAKE3"],
    "NGX_CONF_TAKE123": ["TAKE1", "TAKE2", "TAKE3"],
    "NGX_CONF_TAKE1234": ["TAKE1", "TAKE2", "TAKE3", "TAKE4"],
    "NGX_CONF_ARGS_NUMBER": ["NOARGS"] + ["TAKE%d" % i for i in range(1, 8)],
    "NGX_CONF_BLOCK": ["BLOCK"],
    "NGX_CONF_FLAG": ["FLAG"],
    "NGX_CONF_ANY": ["ANY"],
    "NGX_CONF_1MORE": ["1MORE"],
    "NGX_CONF_2MORE": ["2MORE"],
}
ARG_ORDER = ["NOARGS"] + ["TAKE%d" % i for i in range(1, 8)] + [
    "BLOCK",
    "FLAG",
    "ANY",
    "1MORE",
    "2MORE",
]
ARG_RUST = {
    "NOARGS": "ARG_NOARGS",
    "BLOCK": "ARG_BLOCK",
    "FLAG": "ARG_FLAG",
    "ANY": "ARG_ANY",
    "1MORE": "ARG_1MORE",
    "2MORE": "ARG_2MORE",
}
for _i in range(1, 8):
    ARG_RUST["TAKE%d" % _i] = "ARG_TAKE%d" % _i

CTX_BITS = {
    "NGX_MAIN_CONF": "CTX_MAIN",
    "NGX_DIRECT_CONF": "CTX_DIRECT",
    "NGX_ANY_CONF": "CTX_ANY",
    "NGX_EVENT_CONF": "CTX_EVENTS",
    "NGX_HTTP_MAIN_CONF": "CTX_HTTP",
    "NGX_HTTP_SRV_CONF": "CTX_HTTP_SERVER",
    "NGX_HTTP_LOC_CONF": "CTX_HTTP_LOCATION",
    "NGX_HTTP_UPS_CONF": "CTX_HTTP_UPSTREAM",
    "NGX_HTTP_SIF_CONF": "CTX_HTTP_SERVER_IF",
    "NGX_HTTP_LIF_CONF": "CTX_HTTP_LOCATION_IF",
    "NGX_HTTP_LMT_CONF": "CTX_HTTP_LIMIT_EXCEPT",
    "NGX_STREAM_MAIN_CONF": "CTX_STREAM",
    "NGX_STREAM_SRV_CONF": "CTX_STREAM_SERVER",
    "NGX_STREAM_UPS_CONF": "CTX_STREAM_UPSTREAM",
    "NGX_MAIL_MAIN_CONF": "CTX_MAIL",
    "NGX_MAIL_SRV_CONF": "CTX_MAIL_SERVER",
    "NGX_RTMP_MAIN_CONF": "CTX_RTMP",
    "NGX_RTMP_SRV_CONF": "CTX_RTMP_SERVER",
    "NGX_RTMP_APP_CONF": "CTX_RTMP_APPLICATION",
    "NGX_RTMP_REC_CONF": "CTX_RTMP_RECORDER",
}
CTX_ORDER = [
    "CTX_ANY",
    "CTX_MAIN",
    "CTX_DIRECT",
    "CTX_EVENTS",
    "CTX_HTTP",
    "CTX_HTTP_SERVER",
    "CTX_HTTP_LOCATION",
    "CTX_HTTP_UPSTREAM",
    "CTX_HTTP_SERVER_IF",
    "CTX_HTTP_LOCATION_IF",
    "CTX_HTTP_LIMIT_EXCEPT",
    "CTX_STREAM",
    "CTX_STREAM_SERVER",
    "CTX_STREAM_UPSTREAM",
    "CTX_MAIL",
    "CTX_MAIL_SERVER",
    "CTX_RTMP",
    "CTX_RTMP_SERVER",
    "CTX_RTMP_APPLICATION",
    "CTX_RTMP_RECORDER",
    "CTX_OTHER",
]
# Tokens that may appear in a flags expression and carry no meaning for us.
IGNORED_TOKENS = {"NGX_CONF_MULTI"}

SLOT_KIND = {
    "ngx_conf_set_flag_slot": "Flag",
    "ngx_conf_set_msec_slot": "Time",
    "ngx_conf_set_sec_slot": "Time",
    "ngx_conf_set_size_slot": "Size",
    "ngx_conf_set_off_slot": "Size",
    "ngx_conf_set_num_slot": "Number",
    "ngx_conf_set_bufs_slot": "Bufs",
    "ngx_conf_set_enum_slot": "Enum",
    "ngx_conf_set_bitmask_slot": "Bitmask",
}


# Setters that refuse a second occurrence in the same block ("is duplicate").
UNIQUE_SLOTS = {
    "ngx_conf_set_flag_slot",
    "ngx_conf_set_str_slot",
    "ngx_conf_set_num_slot",
    "ngx_conf_set_size_slot",
    "ngx_conf_set_off_slot",
    "ngx_conf_set_msec_slot",
    "ngx_conf_set_sec_slot",
    "ngx_conf_set_bufs_slot",
    "ngx_conf_set_enum_slot",
}


def decode_flags(expr, where, warnings):
    ctx, args = set(), set()
    for tok in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr):
        if tok in ARG_BITS:
            args.update(ARG_BITS[tok])
        elif tok in CTX_BITS:
            ctx.add(CTX_BITS[tok])
        elif tok in IGNORED_TOKENS:
            pass
        else:
            warnings.append("%s: unknown flag token %s" % (where, tok))
            ctx.add("CTX_OTHER")
    return ctx, args


def value_kind(handler, post, args, enums, bitmasks, where, warnings):
    kind = SLOT_KIND.get(handler)
    if kind in ("Enum", "Bitmask"):
        arr = post.lstrip("&").strip()
        words = (enums if kind == "Enum" else bitmasks).get(arr)
        if words is None:
            warnings.append("%s: %s array %s not found" % (where, kind, arr))
            return ("Any", None)
        return (kind, words)
    if kind:
        return (kind, None)
    # Custom handlers of FLAG directives almost always end in
    # ngx_conf_set_flag_slot (or check on/off themselves): treat as a flag.
    if args == {"FLAG"}:
        return ("Flag", None)
    return ("Any", None)


# ------------------------------------------------------------- extraction


def family_of(path, module):
    """http / stream / mail / core: the namespace a directive name lives in."""
    for fam in ("http", "stream", "mail", "rtmp"):
        if module.startswith("ngx_%s_" % fam) or "/%s/" % fam in "/" + path:
            return fam
    return "core"


def extract_repo(gitdir, rev, paths, label):
    """Yield dicts, one per (directive, module) command entry."""
    warnings = []
    texts = {}
    for p in paths:
        try:
            texts[p] = show(gitdir, rev, p)
        except subprocess.CalledProcessError:
            continue
    # enum/bitmask arrays may live in a shared file (e.g. ngx_event_openssl.c)
    all_enums, all_bitmasks, parsed = {}, {}, {}
    for p, text in texts.items():
        if "ngx_command_t" not in text and "ngx_conf_enum_t" not in text:
            continue
        cmds, mods, enums, bitmasks = parse_c(text)
        parsed[p] = (cmds, mods, enums, bitmasks)
        for k, v in enums.items():
            all_enums.setdefault(k, v)
        for k, v in bitmasks.items():
            all_bitmasks.setdefault(k, v)
    all_mods = {}
    for p, (cmds, mods, _, _) in parsed.items():
        all_mods.update(mods)
    out = []
    for p, (cmds, mods, enums, bitmasks) in sorted(parsed.items()):
        for arr, entries in cmds.items():
            mod = all_mods.get(arr)
            if mod is None:
                warnings.append("%s: commands array %s has no module" % (p, arr))
                mod = (arr.replace("_commands", "_module"), "?")
            for line, name, flags, handler, post in entries:
                where = "%s:%d" % (p, line)
                ctx, args = decode_flags(flags, where, warnings)
                e = dict(enums)
                e.update({k: v for k, v in all_enums.items() if k not in e})
                b = dict(bitmasks)
                b.update({k: v for k, v in all_bitmasks.items() if k not in b})
                kind = value_kind(handler, post, args, e, b, where, warnings)
                out.append(
                    {
                        "name": name,
                        "module": mod[0],
                        "module_type": mod[1],
                        "ctx": ctx,
                        "args": args,
                        "value": kind,
                        "unique": handler.strip() in UNIQUE_SLOTS,
                        "path": p,
                        "line": line,
                        "label": label,
                        "family": family_of(p, mod[0]),
                    }
                )
    for w in warnings:
        print("warning: %s: %s" % (label, w), file=sys.stderr)
    return out


def nginx_source_paths(files):
    return [
        f
        for f in files
        if f.startswith("src/") and (f.endswith(".c") or f.endswith(".cpp"))
    ]


SKIP_DIRS = ("t/", "test/", "tests/", "examples/", "dev/", "patches/", "objs/")


def third_party_paths(files):
    return [
        f
        for f in files
        if (f.endswith(".c") or f.endswith(".cc"))
        and not any(f.startswith(d) or ("/" + d) in f for d in SKIP_DIRS)
    ]


# ----------------------------------------------------------------- versions


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def release_tags(gitdir):
    tags = []
    for t in git(gitdir, "tag", "--list", "release-*").split():
        v = t[len("release-") :]
        if re.fullmatch(r"\d+(\.\d+)+", v):
            tags.append((vkey(v), v, t))
    tags.sort()
    return tags


def names_at(gitdir, rev):
    """(name, family) of every command entry at `rev`, by a fast git grep."""
    try:
        out = git(
            gitdir,
            "grep",
            "-E",
            "-A1",
            r'\{ ngx_string\("[^"]+"\),\s*$',
            rev,
            "--",
            "src",
        )
    except subprocess.CalledProcessError:
        return set()
    res = set()
    lines = out.splitlines()
    for i, l in enumerate(lines):
        m = re.search(r'^[^:]+:([^:]+):\s*\{ ngx_string\("([^"]+)"\),\s*$', l)
        if not m or i + 1 >= len(lines):
            continue
        if "CONF" not in lines[i + 1]:
            continue
        path, name = m.group(1), m.group(2)
        res.add((name, path))
    return res


class History:
    """First and last release of every directive name, per file and per family.

    A name is keyed by (name, family) for removals, and by (name, path) for
    "since" so that e.g. upstream's `keepalive_requests` (1.15.3) is not
    dated by http core's (0.6.38); when the file where the name first
    appeared no longer defines it, the directive moved files and the family
    date is used.
    """

    def __init__(self, gitdir):
        self.tags = release_tags(gitdir)
        self.since_path, self.since_fam, self.last = {}, {}, {}
        self.first_paths = {}
        for _, v, t in self.tags:
            for name, path in names_at(gitdir, t):
                fam = (name, family_of(path, ""))
                self.since_path.setdefault((name, path), v)
                if fam not in self.since_fam:
                    self.since_fam[fam] = v
                    self.first_paths[fam] = set()
                if self.since_fam[fam] == v:
                    self.first_paths[fam].add(path)
                self.last[fam] = v

    def since(self, name, path, fam, head_paths):
        key = (name, fam)
        fam_since = self.since_fam.get(key)
        path_since = self.since_path.get((name, path))
        if path_since is None or path_since == fam_since:
            return fam_since
        firsts = self.first_paths.get(key, set())
        if any((name, p) in head_paths for p in firsts):
            return path_since
        return fam_since


# -------------------------------------------------------------- nginx.org docs

DOC_CTX = {
    "main": ["CTX_MAIN"],
    "events": ["CTX_EVENTS"],
    "http": ["CTX_HTTP"],
    "location": ["CTX_HTTP_LOCATION"],
    "if in location": ["CTX_HTTP_LOCATION_IF"],
    "if": ["CTX_HTTP_SERVER_IF"],
    "limit_except": ["CTX_HTTP_LIMIT_EXCEPT"],
    "stream": ["CTX_STREAM"],
    "mail": ["CTX_MAIL"],
}


def doc_ctx(word, fam):
    if word in DOC_CTX:
        return DOC_CTX[word]
    if word == "server":
        return {"stream": ["CTX_STREAM_SERVER"], "mail": ["CTX_MAIL_SERVER"]}.get(
            fam, ["CTX_HTTP_SERVER"]
        )
    if word == "upstream":
        return {"stream": ["CTX_STREAM_UPSTREAM"]}.get(fam, ["CTX_HTTP_UPSTREAM"])
    return ["CTX_OTHER"]


# Modules documented on nginx.org but distributed apart from nginx itself.
SEPARATE_MODULES = {
    "ngx_http_acme_module",  # https://github.com/nginx/nginx-acme
    "ngx_otel_module",  # https://github.com/nginx/nginx-otel
}


def parse_docs(gitdir):
    """Directives documented on nginx.org: list of dicts."""
    res = []
    for p in ls_files(gitdir, "HEAD"):
        if not (p.startswith("xml/en/docs/") and p.endswith("_module.xml")):
            continue
        text = show(gitdir, "HEAD", p)
        m = re.search(r'<module\s+name="Module\s+(\w+)"', text)
        if not m:
            continue
        module = m.group(1)
        fam = family_of(p[len("xml/en/docs/") :], module)
        commercial = "commercial subscription" in text
        for d in re.finditer(r'<directive\s+name="([^"]+)"\s*>(.*?)</directive>', text, re.S):
            body = d.group(2)
            ctx = []
            for c in re.findall(r"<context>([^<]*)</context>", body):
                ctx += doc_ctx(c.strip(), fam)
            block = re.search(r'<syntax\s+block="yes"', body) is not None
            ap = re.search(r"<appeared-in>([^<]*)</appeared-in>", body)
            line = text.count("\n", 0, d.start()) + 1
            res.append(
                {
                    "name": d.group(1),
                    "module": module,
                    "family": fam,
                    "ctx": set(ctx),
                    "block": block,
                    "appeared": ap.group(1).strip() if ap else None,
                    "commercial": commercial,
                    "path": p,
                    "line": line,
                }
            )
    return res


# --------------------------------------------------------------- origin


def parse_options(gitdir, rev):
    """{module_name: flag} for --with-* modules, set of --without-* modules."""
    text = show(gitdir, rev, "auto/options")
    with_, without = {}, set()
    for m in re.finditer(r"^\s+--with(out)?-([a-z0-9_]+)\)", text, re.M):
        opt = m.group(2)
        mod = "ngx_" + opt if opt.endswith("_module") else None
        if m.group(1):
            if mod:
                without.add(mod)
        elif mod:
            with_[mod] = "--with-" + opt
    # option names that differ from the module name
    with_["ngx_http_xslt_filter_module"] = "--with-http_xslt_module"
    with_["ngx_http_image_filter_module"] = "--with-http_image_filter_module"
    return with_, without


CORE_HTTP = {
    "ngx_http_module",
    "ngx_http_core_module",
    "ngx_http_log_module",
    "ngx_http_upstream_module",
}


# Event modules that configure builds in by operating system, not by flag.
PLATFORM_MODULES = {
    "ngx_epoll_module": "Linux",
    "ngx_kqueue_module": "FreeBSD, macOS, NetBSD, OpenBSD",
    "ngx_devpoll_module": "Solaris",
    "ngx_eventport_module": "Solaris",
    "ngx_iocp_module": "Windows",
    "ngx_quic_bpf_module": "Linux",
}


def nginx_origin(e, with_, without):
    mod = e["module"]
    if mod in PLATFORM_MODULES:
        return 'Origin::Platform { os: "%s" }' % PLATFORM_MODULES[mod]
    if mod in with_:
        return 'Origin::Optional { flag: "%s" }' % with_[mod]
    if e["family"] == "stream":
        return 'Origin::Optional { flag: "--with-stream" }'
    if e["family"] == "mail":
        return 'Origin::Optional { flag: "--with-mail" }'
    if mod in without:
        return "Origin::Standard"
    if e["family"] == "http" and mod not in CORE_HTTP:
        return "Origin::Standard"
    return "Origin::Core"


# ------------------------------------------------------------------- output


def rs_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rs_bits(names, order, empty):
    names = [n for n in order if n in names]
    return " | ".join(names) if names else empty


def rs_value(kind):
    k, words = kind
    if words is None:
        return "ValueKind::%s" % k
    return "ValueKind::%s(&[%s])" % (k, ", ".join(rs_str(w) for w in words))


def render(entries, header):
    out = [header.rstrip("\n")]
    out.append("pub static DIRECTIVES: &[DirectiveSpec] = &[")
    for e in entries:
        out.append("    DirectiveSpec {")
        out.append("        name: %s," % rs_str(e["name"]))
        out.append("        module: %s," % rs_str(e["module"]))
        out.append("        contexts: %s," % rs_bits(e["ctx"], CTX_ORDER, "0"))
        out.append(
            "        args: %s,"
            % rs_bits({ARG_RUST[a] for a in e["args"]}, [ARG_RUST[a] for a in ARG_ORDER], "0")
        )
        out.append("        value: %s," % rs_value(e["value"]))
        out.append("        unique: %s," % ("true" if e["unique"] else "false"))
        out.append("        origin: %s," % e["origin"])
        for f in ("since", "removed"):
            v = e.get(f)
            out.append("        %s: %s," % (f, "Some(%s)" % rs_str(v) if v else "None"))
        out.append("        source: %s," % rs_str(e["source"]))
        out.append("    },")
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nginx", required=True, help="bare git dir of nginx/nginx")
    ap.add_argument("--njs", help="bare git dir of nginx/njs")
    ap.add_argument("--docs", help="bare git dir of nginx/nginx.org")
    ap.add_argument(
        "--third-party",
        action="append",
        default=[],
        metavar="OWNER/NAME=GITDIR",
        help="a third-party module repository (repeatable)",
    )
    ap.add_argument(
        "--third-party-list",
        metavar="FILE",
        help="file of OWNER/NAME lines (# comments); each is read from MIRRORS/OWNER/NAME.git",
    )
    ap.add_argument("--mirrors", metavar="DIR", help="directory holding OWNER/NAME.git mirrors")
    ap.add_argument("--since-from", default="1.0.0", help="oldest release whose removed directives are kept")
    ap.add_argument(
        "--compare-release",
        action="append",
        default=[],
        metavar="X.Y.Z",
        help="list context/argument-rule changes between this release and HEAD",
    )
    ap.add_argument("--compare-out", metavar="FILE", help="where --compare-release writes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--crosscheck", help="write since-vs-docs differences here")
    a = ap.parse_args()

    commits = []
    nginx_rev = "HEAD"
    nginx_commit = head_commit(a.nginx)
    nginx_files = ls_files(a.nginx, nginx_rev)
    describe = git(a.nginx, "describe", "--tags", "HEAD").strip()
    commits.append("nginx/nginx %s (%s)" % (nginx_commit, describe))
    entries = extract_repo(a.nginx, nginx_rev, nginx_source_paths(nginx_files), "nginx")
    with_, without = parse_options(a.nginx, nginx_rev)

    hist = History(a.nginx)
    tags, last = hist.tags, hist.last
    head_keys = {(e["name"], e["family"]) for e in entries}
    head_paths = {(e["name"], e["path"]) for e in entries}
    for e in entries:
        e["origin"] = nginx_origin(e, with_, without)
        e["since"] = hist.since(e["name"], e["path"], e["family"], head_paths)
        e["removed"] = None
        e["source"] = "%s:%d" % (e["path"], e["line"])

    # directives that existed in a release >= since_from but are gone now
    removed = defaultdict(list)
    next_tag = {tags[i][1]: tags[i + 1][1] for i in range(len(tags) - 1)}
    for key, lv in last.items():
        if key in head_keys or vkey(lv) < vkey(a.since_from):
            continue
        removed[lv].append(key)
    for lv, keys in sorted(removed.items(), key=lambda kv: vkey(kv[0])):
        tag = "release-" + lv
        old = extract_repo(a.nginx, tag, nginx_source_paths(ls_files(a.nginx, tag)), tag)
        for e in old:
            if (e["name"], e["family"]) not in keys:
                continue
            e["origin"] = nginx_origin(e, with_, without)
            e["since"] = hist.since_fam.get((e["name"], e["family"]))
            # None when only HEAD (unreleased) dropped it
            e["removed"] = next_tag.get(lv)
            e["source"] = "%s:%d@%s" % (e["path"], e["line"], tag)
            entries.append(e)

    if a.compare_release and a.compare_out:
        lines = []
        now = {}
        for e in entries:
            if e["removed"] is None:
                now.setdefault((e["name"], e["module"]), e)
        for rel in a.compare_release:
            tag = "release-" + rel
            old = extract_repo(a.nginx, tag, nginx_source_paths(ls_files(a.nginx, tag)), tag)
            seen = set()
            for e in old:
                key = (e["name"], e["module"])
                if key in seen:
                    continue
                seen.add(key)
                cur = now.get(key)
                if cur is None:
                    continue
                if cur["ctx"] != e["ctx"]:
                    lines.append("%s %s (%s): contexts %s -> %s" % (rel, e["name"], e["module"], "|".join(sorted(e["ctx"])), "|".join(sorted(cur["ctx"]))))
                if cur["args"] != e["args"]:
                    lines.append("%s %s (%s): args %s -> %s" % (rel, e["name"], e["module"], "|".join(sorted(e["args"])), "|".join(sorted(cur["args"]))))
                if cur["value"] != e["value"]:
                    lines.append("%s %s (%s): value %s -> %s" % (rel, e["name"], e["module"], e["value"], cur["value"]))
        with open(a.compare_out, "w") as f:
            f.write("# release name (module): what differs between that release and nginx HEAD (%s)\n" % describe)
            f.write("".join(l + "\n" for l in lines))

    if a.njs:
        c = head_commit(a.njs)
        commits.append("nginx/njs %s" % c)
        files = [f for f in ls_files(a.njs, "HEAD") if re.fullmatch(r"nginx/ngx_(http|stream)_js_module\.c", f)]
        for e in extract_repo(a.njs, "HEAD", files, "nginx/njs"):
            e["origin"] = 'Origin::ThirdParty { module: "%s" }' % e["module"]
            e["since"] = e["removed"] = None
            e["source"] = "nginx/njs/%s:%d" % (e["path"], e["line"])
            entries.append(e)

    third = list(a.third_party)
    if a.third_party_list:
        if not a.mirrors:
            ap.error("--third-party-list needs --mirrors")
        with open(a.third_party_list) as f:
            for line in f:
                repo = line.split("#", 1)[0].strip()
                if repo:
                    third.append("%s=%s" % (repo, os.path.join(a.mirrors, repo + ".git")))
    for spec in third:
        repo, gitdir = spec.split("=", 1)
        c = head_commit(gitdir)
        commits.append("%s %s" % (repo, c))
        files = third_party_paths(ls_files(gitdir, "HEAD"))
        for e in extract_repo(gitdir, "HEAD", files, repo):
            e["origin"] = 'Origin::ThirdParty { module: "%s" }' % e["module"]
            e["since"] = e["removed"] = None
            e["source"] = "%s/%s:%d" % (repo, e["path"], e["line"])
            entries.append(e)

    cross = []
    if a.docs:
        commits.append("nginx/nginx.org %s" % head_commit(a.docs))
        known = {(e["name"], e["family"]) for e in entries}
        # a name defined in source under another family (quic_bpf is documented
        # with http/v3 but lives in src/event/quic) is not a docs-only name
        source_names = {e["name"] for e in entries if e.get("label") in ("nginx", "nginx/njs")}
        oss_modules = {e["module"] for e in entries if e.get("label") == "nginx"}
        tp_modules = {e["module"] for e in entries if e.get("label") not in (None, "nginx")}
        head_since = defaultdict(set)
        for e in entries:
            if e["label"] == "nginx" and e["since"]:
                head_since[(e["name"], e["family"])].add(e["since"])
        for d in parse_docs(a.docs):
            key = (d["name"], d["family"])
            ap = d["appeared"]
            if ap and re.fullmatch(r"\d+(\.\d+)+", ap) and key in head_since and ap not in head_since[key]:
                cross.append("%s (%s): tags %s, docs %s" % (d["name"], d["family"], "/".join(sorted(head_since[key])), ap))
            if key in known or d["name"] in source_names:
                continue
            known.add(key)
            if d["module"] in tp_modules or d["module"] in SEPARATE_MODULES:
                origin = 'Origin::ThirdParty { module: "%s" }' % d["module"]
            elif d["commercial"] or d["module"] in oss_modules:
                origin = "Origin::NginxPlus"
            else:
                origin = 'Origin::ThirdParty { module: "%s" }' % d["module"]
            ctx = d["ctx"] or {"CTX_OTHER"}
            entries.append(
                {
                    "name": d["name"],
                    "module": d["module"],
                    "family": d["family"],
                    "ctx": ctx,
                    "args": {"ANY", "BLOCK"} if d["block"] else {"ANY"},
                    "value": ("Any", None),
                    "unique": False,
                    "origin": origin,
                    "since": d["appeared"] if d["appeared"] and re.fullmatch(r"\d+(\.\d+)+", d["appeared"]) else None,
                    "removed": None,
                    "source": "nginx/nginx.org/%s:%d" % (d["path"], d["line"]),
                }
            )

    # de-duplicate identical (name, module, ctx, args) entries from #if/#else
    seen, uniq = set(), []
    for e in entries:
        k = (e["name"], e["module"], frozenset(e["ctx"]), frozenset(e["args"]), e.get("removed"))
        if k in seen:
            continue
        seen.add(k)
        uniq.append(e)
    uniq.sort(key=lambda e: (e["name"], e["module"], e["source"]))

    header = (
        "// @generated by testdata/directives/extract.py -- do not edit by hand.\n"
        "// Facts (names, contexts, argument rules, value kinds, versions) extracted from:\n"
        + "".join("//   %s\n" % c for c in commits)
        + "// Release tags scanned: %d (%s .. %s).\n\n"
        % (len(tags), tags[0][1], tags[-1][1])
        + "use super::*;\n\n"
        + "/// Every known directive, sorted by name (several entries per name when modules differ).\n"
    )
    with open(a.out, "w") as f:
        f.write(render(uniq, header))
    if shutil.which("rustfmt"):
        subprocess.run(["rustfmt", "--edition", "2021", a.out], check=False)
    if a.crosscheck:
        with open(a.crosscheck, "w") as f:
            f.write("# directive (family): first release tag containing it vs nginx.org <appeared-in>\n")
            f.write("".join(x + "\n" for x in sorted(cross)))
    fams = defaultdict(int)
    for e in uniq:
        fams[e["origin"].split(" ")[0]] += 1
    print("entries: %d, names: %d, by origin: %s" % (len(uniq), len({e["name"] for e in uniq}), dict(fams)), file=sys.stderr)


if __name__ == "__main__":
    main()
