"""The house's rules (docs/ARCHITECTURE.md), checked over the source so that they stay true.

- `workflows/` is pure: it imports neither `hotline`, `integrations`, Flask nor SQLAlchemy;
- `integrations/` never imports `hotline`;
- imports between the feature folders of `hotline/` run one way: no loop of any length;
- only operations write: nothing outside an `operations` module or package adds, updates or
  deletes rows (a grep-level guard over the statements that do it).

Every import counts, also one inside a function: a lazy import hides a loop, it does not remove it.
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Folders of hotline/ that are not features: the app's plumbing, imported by every feature,
#: or (migrations) a history of the schema.
NOT_FEATURES = {"core", "migrations", "static", "translations", "web"}
#: Where rows may be written outside operations, and why.
WRITERS_BESIDE_OPERATIONS = {
    "hotline/migrations/": "schema and data migrations",
    "hotline/seed/": "the demo city: bulk rows of a fictional city for scripts/run and the benchmarks",
}
#: Statements that add, update or delete rows.
WRITES = re.compile(
    r"db\.session\.(add|add_all|delete|merge)\("
    r"|\b(sa\.|sqlalchemy\.)?(insert|update|delete)\(\s*[A-Z]\w*\s*\)"
    r"|\.(insert|update|delete)\(\)\s*\.\s*(where|values)\("
)


def _sources(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module this file imports, as dotted names (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _offenders(folders: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _sources(*folders):
        bad = sorted(n for n in _imports(path) if n.split(".")[0] in forbidden)
        if bad:
            found.append(f"{_rel(path)} imports {', '.join(bad)}")
    return found


def test_workflows_are_pure_rules():
    assert _offenders(("workflows",), ("hotline", "integrations", "flask", "flask_babel", "sqlalchemy")) == []


def test_integrations_do_not_reach_into_the_application():
    assert _offenders(("integrations",), ("hotline",)) == []


def _feature(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "hotline":
        return None
    folder = ROOT / "hotline" / parts[1]
    return parts[1] if folder.is_dir() and parts[1] not in NOT_FEATURES else None


def feature_graph() -> dict[str, dict[str, set[str]]]:
    """feature -> feature it imports -> the files that do."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in _sources("hotline"):
        source = _feature(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if source is None:
            continue
        for name in _imports(path):
            target = _feature(name)
            if target and target != source:
                graph[source][target].add(_rel(path))
    return graph


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one feature (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_feature_folders_import_one_way():
    graph = feature_graph()
    loops = []
    for component in _cycles(graph):
        edges = [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})"
                 for a in component for b in component if b in graph.get(a, {})]
        loops.append(" | ".join(edges))
    assert loops == [], "imports between feature folders run in a loop:\n" + "\n".join(loops)


def test_the_loop_finder_finds_loops():
    """The check above would see a loop (a check that cannot fail proves nothing)."""
    assert _cycles({"a": {"b": set()}, "b": {"c": set()}, "c": {"a": set()}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": set()}, "b": {}}) == []


def _writes_outside_operations() -> list[str]:
    found = []
    for path in _sources("hotline", "integrations"):
        rel = _rel(path)
        if any(part.startswith("operations") for part in path.relative_to(ROOT).parts):
            continue
        if any(rel.startswith(prefix) for prefix in WRITERS_BESIDE_OPERATIONS):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WRITES.search(line.split("#", 1)[0]):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_only_operations_write_rows():
    found = _writes_outside_operations()
    assert found == [], "rows written outside an operations module:\n" + "\n".join(found)


def test_the_write_guard_sees_each_kind_of_write():
    for line in ("db.session.add(row)", "db.session.delete(row)", "db.session.add_all(rows)",
                 "db.session.execute(sa.update(Agent).where(Agent.id == 1).values(state=s))",
                 "db.session.execute(insert(Citizen).values(phone=p))", "sa.delete(CalendarDay)",
                 "conn.execute(table.update().where(x))"):
        assert WRITES.search(line), line
    for line in ("db.session.execute(sa.select(Agent))", "out.update({'a': 1})", "names.update(x)"):
        assert not WRITES.search(line), line
