#!/usr/bin/env python3
"""Module import cycles in the named crates: exits 1 and prints each cycle
(a strongly connected set of modules) found. A module is a top-level file
or directory of the crate's src/, or a file one level down in api/, web/,
csaf/, urls/ and botnet/; an import is a `crate::module` or
`super::module` path outside comments and test modules."""
import os
import re
import sys

NESTED = ("api", "web", "csaf", "urls", "botnet")


def modules(crate):
    src = f"crates/{crate}/src"
    graph = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            parts = os.path.relpath(path, src)[:-3].split("/")
            if parts[-1] in ("mod", "lib"):
                parts = parts[:-1]
            if not parts:
                name = "lib"
            elif parts[0] in NESTED and len(parts) > 1:
                name = "/".join(parts[:2])
            else:
                name = parts[0]
            text = open(path).read()
            text = re.sub(r"//.*", "", text)
            text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)
            deps = set()
            for m in re.finditer(r"crate::([a-z_]+)(?:::([a-z_]+))?", text):
                a, b = m.group(1), m.group(2)
                nested = a in NESTED and b and os.path.exists(f"{src}/{a}/{b}.rs")
                d = f"{a}/{b}" if nested else a
                if d != name:
                    deps.add(d)
            if len(parts) > 1:
                for m in re.finditer(r"super::([a-z_]+)", text):
                    d = f"{parts[0]}/{m.group(1)}"
                    if os.path.exists(f"{src}/{parts[0]}/{m.group(1)}.rs") and d != name:
                        deps.add(d)
            graph.setdefault(name, set()).update(deps)
    return graph


def cycles(graph):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


bad = False
for crate in sys.argv[1:]:
    for c in cycles(modules(crate)):
        bad = True
        print(f"module cycle in {crate}: {' <-> '.join(c)}", file=sys.stderr)
sys.exit(1 if bad else 0)
