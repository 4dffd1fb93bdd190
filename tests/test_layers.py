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


def rooms(graph, mods) -> dict[str, set[str]]:
    """The import graph between the rooms of ``bench``: each subpackage (bench/lm, bench/evidence,
    bench/report, ...) one node, each module directly in bench/ (the runner, the cell, the scorers...)
    its own node. A loop here is a folder-level loop that no module circle shows: bench/lm -> runner ->
    compute -> scoring -> bench/lm, each step a lazy import of another module."""
    def room(m: str) -> str | None:
        parts = m.split(".")
        if parts[0] != "bench":
            return None
        sub = ".".join(parts[:2])
        return sub if len(parts) > 1 and sub in mods and mods[sub].name == "__init__.py" else m

    out: dict[str, set[str]] = defaultdict(set)
    for a, targets in graph.items():
        for b in targets:
            ra, rb = room(a), room(b)
            if ra and rb and ra != rb:
                out[ra].add(rb)
    return out


def test_no_loop_between_the_rooms_of_bench():
    mods = modules()
    assert circles(rooms(imports(mods), mods)) == []


def test_a_loop_between_rooms_is_found(tmp_path):
    """bench/lm's problem reads the runner, the runner a cell, the cell scores with bench/lm's target (all
    lazily, inside functions): no module circle, but a loop between the rooms bench/lm and bench/."""
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "__init__.py").write_text("")
    (tmp_path / "lm" / "problem.py").write_text("def f():\n    from bench import runner\n")
    (tmp_path / "lm" / "target.py").write_text("X = 1\n")
    (tmp_path / "runner.py").write_text("def g():\n    from . import compute\n")
    (tmp_path / "compute.py").write_text("def h():\n    from bench.lm.target import X\n")
    (tmp_path / "__init__.py").write_text("")
    mods = {"bench": tmp_path / "__init__.py", "bench.lm": tmp_path / "lm" / "__init__.py",
            "bench.lm.problem": tmp_path / "lm" / "problem.py", "bench.lm.target": tmp_path / "lm" / "target.py",
            "bench.runner": tmp_path / "runner.py", "bench.compute": tmp_path / "compute.py"}
    graph = imports(mods)
    assert circles(graph) == []  # no module circle
    assert circles(rooms(graph, mods)) == [("bench.compute", "bench.lm", "bench.runner")]


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


def _third_party(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
    return out - set(sys.stdlib_module_names) - set(PACKAGES)


def test_what_architecture_md_states_of_the_rooms_holds():
    """The statements of ARCHITECTURE.md: tandem_ref needs only numpy, scipy and (lazily, RegMix) lightgbm;
    the scorers import nothing of the LM (a "module:attr" string names Stage Two); the LM's problem stack
    (bench/lm) never imports its evidence (bench/evidence), nor the evidence the report; a CLI command is
    found by itself (every module of bench/commands is a subcommand)."""
    mods = modules()
    graph = imports(mods)
    third = set().union(*(_third_party(p) for m, p in mods.items() if m.startswith("tandem_ref")))
    assert third <= {"numpy", "scipy", "lightgbm"}, third
    below = lambda m, room: any(t == room or t.startswith(room + ".") for t in graph.get(m, ()))  # noqa: E731
    assert not below("bench.scoring", "bench.lm")
    assert not [m for m in mods if m.startswith("bench.lm") and below(m, "bench.evidence")]
    assert not [m for m in mods if m.startswith("bench.evidence") and below(m, "bench.report")]
    text = (ROOT / "ARCHITECTURE.md").read_text()
    for statement in ("lightgbm lazily", "**The offline track**", "`probes.py`", "`fit.py`", "`proxy_runs.py`",
                      "**`lm/`, below the runner**", "**`evidence/`, above the runner**", "found by itself"):
        assert statement in text, statement
    import argparse
    import pkgutil

    import bench.commands
    from bench import cli

    action = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(action.choices) == {m.name for m in pkgutil.iter_modules(bench.commands.__path__)}
