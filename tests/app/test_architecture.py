"""The package's imports go one way (decision 0010): no cycle, and no lower room imports a
higher one. Imports inside functions count as much as those at the top of a module."""

import ast
from pathlib import Path

import pytest

import wagtail_preferences

ROOT = Path(wagtail_preferences.__file__).parent
PACKAGE = "wagtail_preferences"

#: The rooms entry points live in: nothing below them may import them.
ENTRY_POINTS = (
    "admin",
    "visitors",
    "blocks",
    "templatetags",
    "management",
    "wagtail_hooks",
    "urls",
)
#: What models may import: the tables' own helpers and the app-wide basics.
BELOW_MODELS = ("models", "db", "conf", "exceptions", "clock", "compat", "json_depth")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """The package's modules ``path`` imports, anywhere in it."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; otherwise, a name of ``base``.
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [module for module in submodules if module in modules] or [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = [p for p in ROOT.rglob("*.py") if "migrations" not in p.parts]
    modules = {module_name(path) for path in paths}
    return {module_name(path): imported_modules(path, modules) for path in paths}


def room(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_graph_sees_the_package(graph):
    assert {"wagtail_preferences.models.contacts", "wagtail_preferences.audience.compiler"} <= (
        graph.keys()
    )
    assert "wagtail_preferences.models" in graph["wagtail_preferences.audience.compiler"]


def test_no_import_cycle(graph):
    assert cycles(graph) == []


def test_models_import_nothing_above_them(graph):
    upward = {
        (module, target)
        for module, targets in graph.items()
        if room(module) == "models"
        for target in targets
        if room(target) not in BELOW_MODELS
    }
    assert upward == set()


def test_models_and_services_import_no_entry_point(graph):
    upward = {
        (module, target)
        for module, targets in graph.items()
        if room(module) in ("models", "services")
        for target in targets
        if room(target) in ENTRY_POINTS or target.rpartition(".")[2] in ("views", "viewsets")
    }
    assert upward == set()


def test_the_checks_find_a_cycle_and_an_upward_import():
    graph = {
        "wagtail_preferences.a": {"wagtail_preferences.b"},
        "wagtail_preferences.b": {"wagtail_preferences.c"},
        "wagtail_preferences.c": {"wagtail_preferences.a"},
        "wagtail_preferences.d": set(),
    }
    assert cycles(graph) == [
        ["wagtail_preferences.a", "wagtail_preferences.b", "wagtail_preferences.c"]
    ]
    assert room("wagtail_preferences.admin.forms") in ENTRY_POINTS


def test_relative_imports_resolve_to_modules(tmp_path):
    package = tmp_path / "wagtail_preferences"
    (package / "models").mkdir(parents=True)
    (package / "admin").mkdir()
    source = package / "models" / "bad.py"
    source.write_text("def f():\n    from ..admin import forms\n    from . import contacts\n")
    modules = {
        "wagtail_preferences.admin",
        "wagtail_preferences.admin.forms",
        "wagtail_preferences.models",
        "wagtail_preferences.models.contacts",
        "wagtail_preferences.models.bad",
    }
    assert imported_modules(source, modules, root=package) == {
        "wagtail_preferences.admin.forms",
        "wagtail_preferences.models.contacts",
    }
