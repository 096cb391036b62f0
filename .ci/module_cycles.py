#!/usr/bin/env python3
"""Fails when a module of a crate imports (through `crate::`, `super::` or `self::` paths,
or a name lib.rs re-exports) a module that imports it back, directly or along a chain.

    .ci/module_cycles.py crates/web/src [crates/store/src ...]

A heuristic reading of the source, not of the compiler's resolution: test code is left
out, and an inline `mod x { ... }` counts as part of its file.
"""
import os
import re
import sys


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"#\[cfg\(test\)\]\s*mod \w+;", "", text)
    inline_tests = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)
    if inline_tests:  # always the last item of a file here
        text = text[: inline_tests.start()]
    # Inside an inline module, `super::` names the file's own module.
    out, pos = [], 0
    for m in re.finditer(r"\bmod \w+\s*\{", text):
        if m.start() < pos:
            continue
        depth, end = 0, m.end() - 1
        for end in range(m.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        out.append(text[pos : m.start()])
        out.append(text[m.start() : end + 1].replace("super::", "self::"))
        pos = end + 1
    out.append(text[pos:])
    return "".join(out)


def read_crate(src):
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] == "mod":
                parts = parts[:-1]
            if parts in (["lib"], ["main"]):
                parts = []
            if parts and parts[-1] == "tests":
                continue
            with open(path) as f:
                files["::".join(parts)] = strip(f.read())
    return files


def paths_used(text):
    found = []

    def walk(prefix, tree):
        tree = tree.strip()
        if tree.startswith("{"):
            depth, current, items = 0, "", []
            for ch in tree[1:-1]:
                depth += {"{": 1, "}": -1}.get(ch, 0)
                if ch == "," and depth == 0:
                    items.append(current)
                    current = ""
                else:
                    current += ch
            items.append(current)
            for item in items:
                if item.strip():
                    walk(prefix, item)
            return
        m = re.match(r"([\w:]+?)(::\{.*\})?$", tree, re.S)
        if m and m.group(2):
            walk(prefix + m.group(1) + "::", m.group(2)[2:])
        elif m:
            found.append(prefix + m.group(1))

    for use in re.finditer(r"\buse\s+((?:crate|super|self)\b[^;]*);", text, re.S):
        walk("", use.group(1))
    body = re.sub(r"\buse\s+[^;]*;", "", text)
    found += re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", body)
    return found


def graph_of(files):
    modules = set(files)
    reexports = {}
    for m in re.finditer(r"pub use (\w+)::(\{[^}]*\}|\w+)", files.get("", "")):
        for name in re.findall(r"\w+", m.group(2)):
            reexports[name] = m.group(1)

    def resolve(here, path):
        parts = path.split("::")
        base = here.split("::") if here else []
        if parts[0] == "crate":
            base = []
        elif parts[0] == "super":
            base = base[:-1]
            while len(parts) > 1 and parts[1] == "super":
                base, parts = base[:-1], parts[1:]
        parts = parts[1:]
        if not base and parts and parts[0] not in modules and parts[0] in reexports:
            return reexports[parts[0]]
        best = "::".join(base)
        for i in range(1, len(parts) + 1):
            candidate = "::".join(base + parts[:i])
            if candidate in modules:
                best = candidate
        return best

    graph = {m: set() for m in modules if m}
    for module, text in files.items():
        if not module:
            continue
        for path in paths_used(text):
            target = resolve(module, path)
            if target and target != module and target in graph:
                graph[module].add(target)
    return graph


def cycles(graph):
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(sources):
    failed = False
    for src in sources:
        graph = graph_of(read_crate(src))
        for component in cycles(graph):
            failed = True
            print(f"{src}: modules that import each other: {', '.join(component)}")
            for module in component:
                back = sorted(graph[module] & set(component))
                print(f"  {module} -> {', '.join(back)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
