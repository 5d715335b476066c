#!/usr/bin/env python3
"""Compare the generated directive table with a real `nginx -t`.

For every directive of nginx's own modules that the given nginx binary should
know (released by its version, module built in statically), put it in each
http/core context with an argument count it accepts, and in its first
allowed context with 0..8 arguments, and compare what `nginx -t` says
("unknown directive", "is not allowed here", "invalid number of arguments",
or something later = passed) with what the table predicts. Prints the
differences. Python 3 standard library only; runs nginx, never as a server.

    python3 testdata/directives/validate_nginx.py \
        --table src/model/nginx_directives/table.rs --nginx nginx
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

CTX_ORDER = [
    "CTX_MAIN", "CTX_DIRECT", "CTX_EVENTS", "CTX_HTTP", "CTX_HTTP_SERVER",
    "CTX_HTTP_LOCATION", "CTX_HTTP_UPSTREAM", "CTX_HTTP_SERVER_IF",
    "CTX_HTTP_LOCATION_IF", "CTX_HTTP_LIMIT_EXCEPT",
]
ALL_CTX = set(CTX_ORDER) - {"CTX_DIRECT"}

# context bit -> config text around the directive `{D}`
WRAP = {
    "CTX_MAIN": "{D}\nevents {{}}\n",
    "CTX_EVENTS": "events {{\n{D}\n}}\n",
    "CTX_HTTP": "events {{}}\nhttp {{\n{D}\n}}\n",
    "CTX_HTTP_SERVER": "events {{}}\nhttp {{ server {{\n{D}\n}} }}\n",
    "CTX_HTTP_LOCATION": "events {{}}\nhttp {{ server {{ location / {{\n{D}\n}} }} }}\n",
    "CTX_HTTP_UPSTREAM": "events {{}}\nhttp {{ upstream u {{\n{D}\nserver 127.0.0.1; }} }}\n",
    "CTX_HTTP_SERVER_IF": "events {{}}\nhttp {{ server {{ if ($a) {{\n{D}\n}} }} }}\n",
    "CTX_HTTP_LOCATION_IF": "events {{}}\nhttp {{ server {{ location / {{ if ($a) {{\n{D}\n}} }} }} }}\n",
    "CTX_HTTP_LIMIT_EXCEPT": "events {{}}\nhttp {{ server {{ location / {{ limit_except GET {{\n{D}\n}} }} }} }}\n",
}


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def parse_table(path):
    text = open(path).read()
    specs = []
    for body in re.findall(r"    DirectiveSpec \{\n(.*?)\n    \},", text, re.S):
        get = lambda f: re.search(r"\b%s: (.*?),\n" % f, body + ",\n", re.S).group(1)
        origin = re.search(r"origin: (Origin::\w+(?: \{[^}]*\})?)", body, re.S).group(1)
        flag = re.search(r'flag: "([^"]+)"', origin)
        osm = re.search(r'os: "([^"]+)"', origin)
        since = re.search(r'since: Some\("([^"]+)"\)', body)
        removed = re.search(r'removed: Some\("([^"]+)"\)', body)
        specs.append(
            {
                "name": re.search(r'name: "([^"]*)"', body).group(1),
                "module": re.search(r'module: "([^"]*)"', body).group(1),
                "ctx": set(re.findall(r"CTX_\w+", get("contexts"))),
                "args": set(re.findall(r"ARG_\w+", get("args"))),
                "origin": origin.split(" ")[0],
                "flag": flag.group(1) if flag else None,
                "os": osm.group(1) if osm else None,
                "since": since.group(1) if since else None,
                "removed": removed.group(1) if removed else None,
            }
        )
    return specs


def accepts(spec, n):
    a = spec["args"]
    if "ARG_ANY" in a:
        return True
    if "ARG_FLAG" in a:
        return n == 1
    if "ARG_1MORE" in a:
        return n >= 1
    if "ARG_2MORE" in a:
        return n >= 2
    take = ["ARG_NOARGS"] + ["ARG_TAKE%d" % i for i in range(1, 8)]
    return n < 8 and take[n] in a


def expected(specs, ctx, n):
    allowed = [s for s in specs if ctx in s["ctx"] or "CTX_ANY" in s["ctx"]]
    if not specs:
        return "unknown"
    if not allowed:
        return "not allowed"
    return "ok" if any(accepts(s, n) for s in allowed) else "args"


def classify(out):
    if "unknown directive" in out:
        return "unknown"
    if "is not allowed here" in out:
        return "not allowed"
    if "invalid number of arguments" in out:
        return "args"
    return "ok"


def run(nginx, tmp, idx, conf):
    path = os.path.join(tmp, "t%d.conf" % idx)
    with open(path, "w") as f:
        f.write(conf)
    p = subprocess.run(
        [nginx, "-t", "-q", "-p", tmp + "/", "-c", path],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=20,
    )
    return p.stdout.decode("utf-8", "replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True)
    ap.add_argument("--nginx", default="nginx")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    vout = subprocess.run([a.nginx, "-V"], stderr=subprocess.PIPE).stderr.decode()
    version = re.search(r"nginx/(\d+\.\d+\.\d+)", vout).group(1)
    static_flags = set(re.findall(r"(--with-[a-z0-9_]+)(?=\s)", vout))
    specs = [
        s
        for s in parse_table(a.table)
        if s["origin"] in ("Origin::Core", "Origin::Standard")
        or (s["origin"] == "Origin::Platform" and s["os"] and "Linux" in s["os"])
        or (s["origin"] == "Origin::Optional" and s["flag"] in static_flags)
    ]
    specs = [
        s
        for s in specs
        if s["since"] is not None and vkey(s["since"]) <= vkey(version)
        and (s["removed"] is None or vkey(version) < vkey(s["removed"]))
        and s["ctx"] & ALL_CTX
        and not (s["ctx"] - ALL_CTX - {"CTX_DIRECT", "CTX_ANY"})
    ]
    by_name = {}
    for s in specs:
        by_name.setdefault(s["name"], []).append(s)
    skip = {"include", "load_module", "events", "http", "server", "location", "if",
            "limit_except", "upstream", "types", "map", "geo", "split_clients", "charset_map"}
    cases = []
    for name, ss in sorted(by_name.items()):
        if name in skip:
            continue
        block = any("ARG_BLOCK" in s["args"] for s in ss)
        n_ok = next((n for n in range(0, 9) if any(accepts(s, n) for s in ss)), 1)

        def directive(n):
            words = " ".join([name] + ["x%d" % i for i in range(n)])
            return words + (" { }" if block else ";")

        for ctx in CTX_ORDER:
            if ctx == "CTX_DIRECT":
                continue
            cases.append((name, ctx, n_ok, WRAP[ctx].format(D=directive(n_ok))))
        first = next(c for c in CTX_ORDER if any(c in s["ctx"] for s in ss))
        for n in range(0, 9):
            if n != n_ok:
                cases.append((name, first, n, WRAP[first].format(D=directive(n))))
    print("nginx %s: %d directives, %d cases" % (version, len(by_name), len(cases)), file=sys.stderr)
    diffs = []
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "logs"))
        with ThreadPoolExecutor(a.jobs) as pool:
            outs = list(pool.map(lambda ic: run(a.nginx, tmp, ic[0], ic[1][3]), enumerate(cases)))
    for (name, ctx, n, conf), out in zip(cases, outs):
        want = expected(by_name[name], ctx, n)
        got = classify(out)
        if want != got:
            first = out.strip().splitlines()[0] if out.strip() else ""
            diffs.append("%s in %s with %d args: table says %s, nginx says %s (%s)" % (name, ctx, n, want, got, first[:160]))
    print("%d differences" % len(diffs))
    for d in diffs:
        print(d)


if __name__ == "__main__":
    main()
