"""The library's shape: sizes a reader takes in at once, and no import cycles.

Limits, docstrings aside: a module 350 lines, a class 150, a function 60. A unit may be
longer only when its docstring says why, in a paragraph that starts with "Length:" (one
job that does not split well).

Import cycles are counted over imports that run when a module is imported (the top level,
``try``/``if`` blocks included, ``if TYPE_CHECKING:`` blocks excluded); imports inside
functions are deferrals (the command line imports torch only in ``run``) and do not count.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "brr_lab"
LIMITS = {"module": 350, "class": 150, "function": 60}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _docstring_lines(node) -> int:
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].end_lineno - body[0].lineno + 1
    return 0


def _size(node, total_lines: int | None = None) -> int:
    n = total_lines if total_lines is not None else node.end_lineno - node.lineno + 1
    return n - _docstring_lines(node)


def _justified(node) -> bool:
    doc = ast.get_docstring(node) or ""
    return any(par.strip().startswith("Length:") for par in doc.split("\n\n"))


def oversized() -> list[str]:
    found = []
    for name, path in MODULES.items():
        source = path.read_text()
        tree = ast.parse(source)
        n = _size(tree, len(source.splitlines()))
        if n > LIMITS["module"] and not _justified(tree):
            found.append(f"module {name}: {n} lines (limit {LIMITS['module']})")
        for node in ast.walk(tree):
            kind = ("class" if isinstance(node, ast.ClassDef) else "function"
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None)
            if kind and _size(node) > LIMITS[kind] and not _justified(node):
                found.append(f"{kind} {name}.{node.name} (line {node.lineno}): {_size(node)} "
                             f"lines (limit {LIMITS[kind]})")
    return found


def _runtime_imports(tree: ast.Module):
    """Import nodes that run at import time: not in functions, not under TYPE_CHECKING."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in MODULES}
            elif node.module and node.level == 0 and node.module in MODULES:
                for alias in node.names:  # a submodule by name, else a name from the module
                    sub = f"{node.module}.{alias.name}"
                    edges.add(sub if sub in MODULES else node.module)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_class_or_function_over_the_limits():
    found = oversized()
    assert not found, "over the size limits, with no 'Length:' reason in the docstring:\n" + \
        "\n".join(found)


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, f"import cycles: {found}"


def test_every_package_says_what_it_holds():
    for name, path in MODULES.items():
        if path.name != "__init__.py":
            continue
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{name}: a package needs a docstring saying its job"
        assert any(isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__"
                                                    for t in n.targets) for n in tree.body), \
            f"{name}: a package needs __all__"


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """The walkers find what they look for: an oversized function and a two-module cycle."""
    long_body = "\n".join(f"    x{i} = {i}" for i in range(LIMITS["function"] + 1))
    fake = {"pkg.a": tmp_path / "a.py", "pkg.b": tmp_path / "b.py"}
    fake["pkg.a"].write_text(f"import pkg.b\n\n\ndef f():\n{long_body}\n")
    fake["pkg.b"].write_text("from pkg import a\n")
    monkeypatch.setattr(__import__(__name__), "MODULES", {**fake, "pkg": tmp_path / "__init__.py"})
    (tmp_path / "__init__.py").write_text("")
    assert any("function pkg.a.f" in line for line in oversized())
    assert cycles(import_graph()) == [["pkg.a", "pkg.b"]]
    # A reason in the docstring is accepted; an import inside a function is not a cycle.
    fake["pkg.a"].write_text(f'import pkg.b\n\n\ndef f():\n    """Long.\n\n    Length: one job."""\n'
                             f"{long_body}\n")
    fake["pkg.b"].write_text("def g():\n    from pkg import a\n")
    assert oversized() == [] and cycles(import_graph()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_docstring(name):
    tree = ast.parse(MODULES[name].read_text())
    if MODULES[name].name == "__main__.py":
        return
    assert ast.get_docstring(tree), f"{name}: say in one line what this module is for"


# What each package may import (docs/architecture.md); every import counts, deferred ones
# too. cli/, app/ and __main__ may import everything.
GROUPS = {
    "base": {"brr_lab", "brr_lab._validation", "brr_lab._lazy", "brr_lab.strict_json"},
    "weighting": {"brr_lab.weighting"},
    "losses": {"brr_lab.losses"},
    "configs": {"brr_lab.configs"},
    "eeg": {"brr_lab.eeg"},
    "training": {"brr_lab.training"},
    "scoring": {"brr_lab.scoring"},
    "experiments": {"brr_lab.experiments"},
    "postmortem": {"brr_lab.postmortem"},
    "widgets": {"brr_lab.widgets"},
}
_BELOW_EXPERIMENTS = {"base", "weighting", "losses", "configs", "eeg", "training", "scoring"}
MAY_IMPORT = {
    "base": set(),
    "weighting": {"base"},
    "losses": {"base"},
    "configs": {"base", "weighting"},
    "eeg": {"base"},
    "training": {"base", "weighting", "losses", "configs", "eeg"},
    "scoring": {"base", "eeg"},
    "experiments": _BELOW_EXPERIMENTS,
    "postmortem": _BELOW_EXPERIMENTS | {"experiments"},
    "widgets": _BELOW_EXPERIMENTS | {"experiments", "postmortem"},
}


def group_of(module: str) -> str | None:
    for group, prefixes in GROUPS.items():
        if module in prefixes or any(module.startswith(p + ".") for p in prefixes - {"brr_lab"}):
            return group
    return None


def layering_violations() -> list[str]:
    found = []
    for name, path in MODULES.items():
        group = group_of(name)
        if group is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES
                           else node.module for a in node.names]
            else:
                continue
            for target in targets:
                other = group_of(target) if target.startswith("brr_lab") else None
                if other is not None and other != group and other not in MAY_IMPORT[group]:
                    found.append(f"{name} (line {node.lineno}) imports {target}: {group} may "
                                 f"import {sorted(MAY_IMPORT[group])}")
    return found


def test_every_module_belongs_to_a_group():
    loose = [n for n in MODULES if group_of(n) is None and n.split(".")[1:2] not in
             (["cli"], ["app"], ["__main__"])]
    assert not loose, f"modules outside docs/architecture.md's table: {loose}"


def test_modules_import_only_what_the_architecture_allows():
    found = layering_violations()
    assert not found, "\n".join(found)


def test_the_layering_check_can_fail(tmp_path, monkeypatch):
    fake = tmp_path / "losses.py"
    fake.write_text("def f():\n    from brr_lab.experiments.repro import run_repro\n")
    (tmp_path / "repro.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "MODULES",
                        {"brr_lab.losses": fake, "brr_lab.experiments.repro": tmp_path / "repro.py"})
    assert [v.split(":")[0] for v in layering_violations()] == \
        ["brr_lab.losses (line 2) imports brr_lab.experiments.repro"]
