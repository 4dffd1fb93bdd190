"""The direction of imports (ARCHITECTURE.md): ``tandem_ref`` imports neither ``theory`` nor ``bench``,
``theory`` imports only ``tandem_ref``, and no module of the three packages is part of an import
circle. Read from the source (AST), so a lazy import inside a function counts as well."""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tandem_ref", "theory", "bench")
ALLOWED = {"tandem_ref": ("tandem_ref",), "theory": ("tandem_ref", "theory"), "bench": PACKAGES}


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            name = ".".join(f.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = f
    return out


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports (``from pkg import submodule`` counts as the submodule)."""
    graph = defaultdict(set)
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module
                subs = [f"{prefix}.{a.name}" for a in node.names if f"{prefix}.{a.name}" in mods]
                targets = subs if len(subs) == len(node.names) else subs + [prefix]
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                # importing a.b.c first runs the __init__ of a and a.b: those packages are edges too
                # (a circle through a package's __init__ fails at import time like any other)
                while t:
                    if t in mods and t != name and not name.startswith(t + "."):  # not the importer's own
                        graph[name].add(t)
                    t = t.rpartition(".")[0]
    return graph


def circles(graph) -> list[tuple[str, ...]]:
    """Strongly connected components with more than one module (Tarjan)."""
    sys.setrecursionlimit(10000)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                out.append(tuple(sorted(comp)))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def against_layers(graph) -> list[str]:
    return [f"{m} -> {t}" for m, ts in sorted(graph.items()) for t in sorted(ts)
            if t.split(".")[0] not in ALLOWED[m.split(".")[0]]]


def test_no_import_runs_against_the_layers():
    wrong = against_layers(imports(modules()))
    assert not wrong, "imports against the layers: " + "; ".join(wrong)


def test_no_import_circle():
    assert circles(imports(modules())) == []


def test_a_circle_through_a_package_init_is_found(tmp_path):
    """bench.lm.x importing bench.report.data runs bench/report/__init__.py, which imported bench.lm.x
    back (a circle that raised ImportError at run time although no module named the other directly)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from . import view\n")
    (tmp_path / "pkg" / "view.py").write_text("import bench.lm.x\n")
    (tmp_path / "pkg" / "data.py").write_text("X = 1\n")
    (tmp_path / "x.py").write_text("from bench.report.data import X\n")
    pkg = tmp_path / "pkg"
    graph = imports({"bench.report": pkg / "__init__.py", "bench.report.view": pkg / "view.py",
                     "bench.report.data": pkg / "data.py", "bench.lm.x": tmp_path / "x.py"})
    assert circles(graph)


def test_the_checks_can_fail(tmp_path):
    """An upward import hidden in a function and a circle through a relative import are both found."""
    (tmp_path / "x.py").write_text("def f():\n    from theory import y\n")
    (tmp_path / "y.py").write_text("from .z import g\n")
    (tmp_path / "z.py").write_text("import theory.y\nimport numpy\n")
    graph = imports({"tandem_ref.x": tmp_path / "x.py", "theory.y": tmp_path / "y.py", "theory.z": tmp_path / "z.py"})
    assert against_layers(graph) == ["tandem_ref.x -> theory.y"]
    assert circles(graph) == [("theory.y", "theory.z")]


def test_architecture_names_only_what_exists():
    """Every module path and dotted name ARCHITECTURE.md gives in backticks exists."""
    import importlib
    import re

    text = (ROOT / "ARCHITECTURE.md").read_text()
    for path in re.findall(r"`((?:tandem_ref|theory|bench|tests)/[\w/.-]*?)`", text):
        if "<" not in path:
            assert (ROOT / path).exists(), path
    for dotted in re.findall(r"`((?:tandem_ref|theory|bench)\.[\w.]+)`", text):
        mod, _, attr = dotted.rpartition(".")
        try:
            importlib.import_module(dotted)
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(mod), attr), dotted
