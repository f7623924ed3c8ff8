"""The package's import structure: the layer order, no cycles, lazy imports only where they pay.

Every module under ``stygaze/`` is parsed (ast, nothing is imported); every import counts,
module-level and inside functions, plus ``importlib.import_module("...")`` calls with a
literal name and the values of a module's ``_LAZY`` table (lazy attribute facades). The
layer order is the one list in :mod:`stygaze._layers`, which ``docs/architecture.md`` shows.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from stygaze import _layers

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "stygaze"


@dataclass(frozen=True)
class Edge:
    src: str  # importing module
    dst: str  # imported stygaze module (a submodule when the name is one, else the package/module)
    names: tuple[str, ...]  # names taken with `from X import a, b`
    line: int
    in_function: bool
    type_checking: bool
    lazy_attribute: bool = False  # a value of a module's _LAZY table (loaded on attribute access)

    def where(self) -> str:
        return f"{self.src}:{self.line}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py" if name in modules() else False


def _resolve_from(base: str, names: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """``from base import a, b``: a name that is a submodule is an import of that submodule."""
    out, plain = [], []
    for n in names:
        (out.append((f"{base}.{n}", ())) if f"{base}.{n}" in modules() else plain.append(n))
    if plain or not out:
        out.append((base, tuple(plain)))
    return out


class _Collector(ast.NodeVisitor):
    def __init__(self, name: str):
        self.name = name
        self.package = name if _is_package(name) else name.rpartition(".")[0]
        self.depth = 0
        self.type_checking = 0
        self.edges: list[Edge] = []
        self.third_party: set[str] = set()  # top-level names imported at module level, outside TYPE_CHECKING

    def _add(self, target: str, names: tuple[str, ...], line: int, lazy_attribute: bool = False) -> None:
        if target == _layers.ROOT or target.startswith(_layers.ROOT + "."):
            self.edges.append(Edge(self.name, target, names, line, self.depth > 0 or lazy_attribute, self.type_checking > 0, lazy_attribute))
        elif self.depth == 0 and not self.type_checking:
            self.third_party.add(target.split(".")[0])

    def visit_FunctionDef(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node):
        tc = "TYPE_CHECKING" in ast.unparse(node.test)
        self.type_checking += tc
        for child in node.body:
            self.visit(child)
        self.type_checking -= tc
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node):
        for alias in node.names:
            self._add(alias.name, (), node.lineno)

    def visit_ImportFrom(self, node):
        if node.module == "__future__":
            return
        base = node.module or ""
        if node.level:
            parts = self.package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        if base == _layers.ROOT or base.startswith(_layers.ROOT + "."):
            for target, names in _resolve_from(base, [a.name for a in node.names]):
                self._add(target, names, node.lineno)
        else:
            self._add(base, (), node.lineno)

    def visit_Call(self, node):
        func = ast.unparse(node.func)
        if func.endswith("import_module") and node.args and isinstance(node.args[0], ast.Constant):
            if isinstance(node.args[0].value, str):
                self._add(node.args[0].value, (), node.lineno)
        self.generic_visit(node)

    def visit_Assign(self, node):
        if self.depth == 0 and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            if isinstance(node.value, ast.Dict):
                for v in node.value.values:
                    if isinstance(v, ast.Constant) and isinstance(v.value, str):
                        # the facade imports it on attribute access: a function-level import
                        self._add(v.value, (), node.lineno, lazy_attribute=True)
        self.generic_visit(node)


@cache
def scan() -> dict[str, _Collector]:
    out = {}
    for name, path in modules().items():
        col = _Collector(name)
        col.visit(ast.parse(path.read_text(), filename=str(path)))
        out[name] = col
    return out


def checked_edges() -> list[Edge]:
    return [e for c in scan().values() if not _layers.is_exempt(c.name) for e in c.edges if not _layers.is_exempt(e.dst)]


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@cache
def import_closure(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """``(own modules, third-party top-level packages)`` that importing ``name`` loads.

    Module-level imports only (not those inside functions or under ``TYPE_CHECKING``),
    followed transitively, parent packages' ``__init__`` included.
    """
    seen: set[str] = set()
    third: set[str] = set()
    stack = [name]
    while stack:
        m = stack.pop()
        if m in seen or m not in scan():
            continue
        seen.add(m)
        col = scan()[m]
        third |= col.third_party
        stack += [e.dst for e in col.edges if not e.in_function and not e.type_checking] + _parents(m)
    return frozenset(seen), frozenset(third)


# --------------------------------------------------------------------------------------
def test_every_module_has_a_layer():
    missing = [m for m in modules() if not _layers.is_exempt(m) and _layers.layer_of(m) is None]
    assert not missing, f"modules without a layer in stygaze/_layers.py: {missing}"


def test_no_import_points_up_the_layer_order():
    bad = []
    for e in checked_edges():
        a, b = _layers.layer_of(e.src), _layers.layer_of(e.dst)
        if b is not None and a is not None and b > a:
            bad.append(f"{e.where()} imports {e.dst} (layer {b} > {a}: {_layers.area(e.dst)} is above {_layers.area(e.src)})")
    assert not bad, "imports pointing up the layer order (stygaze/_layers.py):\n" + "\n".join(bad)


def test_model_families_do_not_import_each_other():
    bad = []
    for e in checked_edges():
        a, b = _layers.area(e.src), _layers.area(e.dst)
        if a in _layers.INDEPENDENT and b in _layers.INDEPENDENT and a != b:
            bad.append(f"{e.where()} imports {e.dst}")
    assert not bad, "model families importing each other:\n" + "\n".join(bad)


def test_no_private_names_across_areas():
    bad = []
    for e in checked_edges():
        private = [n for n in e.names if n.startswith("_") and not n.startswith("__")]
        if private and _layers.area(e.src) != _layers.area(e.dst):
            bad.append(f"{e.where()} imports {private} from {e.dst}")
        if e.dst.rpartition(".")[2].startswith("_") and _layers.area(e.src) != _layers.area(e.dst):
            bad.append(f"{e.where()} imports the private module {e.dst}")
    assert not bad, "private names used outside their area:\n" + "\n".join(bad)


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import), Tarjan."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.src, set()).add(e.dst)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
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
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles():
    edges = [e for e in checked_edges() if not e.type_checking and e.dst != e.src.rpartition(".")[0]]
    cycles = _cycles(edges)
    detail = []
    for comp in cycles:
        members = set(comp)
        detail.append(" <-> ".join(comp) + ": " + ", ".join(
            f"{e.where()} -> {e.dst}" for e in edges if e.src in members and e.dst in members))
    assert not cycles, "import cycles (function-level imports count):\n" + "\n".join(detail)


# Light imports inside functions not moved to module level yet: each entry is a place to fix,
# not an exception to keep (delete it when the import moves).
NOT_YET_MOVED: set[tuple[str, str]] = set()


def lazy_import_reason(e: Edge) -> str | None:
    """Why ``e`` (an import inside a function) may not be at module level, or None when it should be."""
    heavy = (import_closure(e.dst)[1] - import_closure(e.src)[1]) & set(_layers.HEAVY)
    if heavy:
        return f"loads {sorted(heavy)}"
    if e.lazy_attribute:
        return "a package's lazy attribute table (_LAZY)"
    cli = "stygaze.cli"
    if _layers.area(e.src) == cli and _layers.area(e.dst) != cli and e.dst not in import_closure(e.src)[0]:
        # every `stygaze` call imports every command module (so those are always loaded): a
        # command's library code is loaded when that command runs, not on every start
        return "command code, loaded when its command runs"
    return None


def test_function_level_imports_of_own_modules_pay_for_themselves():
    """An own module is imported inside a function only when that keeps start-up fast: a module-level
    import would load a heavy or optional dependency (:data:`stygaze._layers.HEAVY`) the importing
    module does not load, or (in ``stygaze.cli``) another command's code."""
    bad = []
    for e in checked_edges():
        if not e.in_function or e.type_checking or e.dst not in scan():
            continue
        if lazy_import_reason(e) is None and (e.src, e.dst) not in NOT_YET_MOVED:
            bad.append(f"{e.where()} imports {e.dst} inside a function: it is light, import it at module level")
    assert not bad, "\n".join(bad)
    moved = {(s, d) for s, d in NOT_YET_MOVED if not any(
        e.src == s and e.dst == d and e.in_function and lazy_import_reason(e) is None for e in checked_edges())}
    assert not moved, f"remove from NOT_YET_MOVED (already at module level): {sorted(moved)}"


def test_docs_show_the_layer_order():
    text = (ROOT / "docs" / "architecture.md").read_text()
    assert _layers.describe() in text, f"docs/architecture.md must show the layer order: {_layers.describe()}"


# the checker itself: it must find what it is meant to find ------------------------------
def test_checker_finds_a_planted_cycle_and_an_upward_import():
    e = [Edge("stygaze.a", "stygaze.b", (), 1, True, False), Edge("stygaze.b", "stygaze.a", (), 1, False, False)]
    assert _cycles(e) == [["stygaze.a", "stygaze.b"]]
    assert _layers.layer_of("stygaze.audio") > _layers.layer_of("stygaze.errors")
    assert _layers.layer_of("stygaze.eval.perceptual") > _layers.layer_of("stygaze.omnihead.model") > _layers.layer_of("stygaze.eval.idt")
    assert _layers.layer_of("stygaze") == len(_layers.LAYERS) - 1 and _layers.layer_of("stygaze.unknown") is None


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from stygaze.features import rhythm\n", ("stygaze.features.rhythm", True)),
    ("from . import mel\n", ("stygaze.features.mel", False)),
    ("import importlib\ndef g():\n    importlib.import_module('stygaze.motion')\n", ("stygaze.motion", True)),
])
def test_checker_sees_every_kind_of_import(source, expected):
    col = _Collector("stygaze.features.rhythm")
    col.visit(ast.parse(source))
    assert [(e.dst, e.in_function) for e in col.edges] == [expected]
