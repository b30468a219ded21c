"""The library's imports point down the layers: no module imports, directly or through
others, a module that imports it (issue #28). Function-local imports count too: they hide a
cycle from Python, not from a reader."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "explainer"


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    """Module -> the ``explainer`` modules it imports anywhere in its source."""
    mods = {}
    for p in root.rglob("*.py"):
        name = ".".join(("explainer", *p.relative_to(root).with_suffix("").parts))
        mods[name.removesuffix(".__init__")] = p
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and node.module.split(".")[0] == "explainer":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in mods else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.split(".")[0] == "explainer"}
        graph[name] = {d for d in deps if d in mods and d not in (name, "explainer")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_in_the_library():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    pkg = tmp_path / "explainer"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from explainer import b\n")
    (pkg / "b.py").write_text("def f():\n    from explainer.c import x\n")
    (pkg / "c.py").write_text("import explainer.a\n")
    (pkg / "d.py").write_text("from explainer import a\n")
    assert cycles(import_graph(pkg)) == [["explainer.a", "explainer.b", "explainer.c"]]
