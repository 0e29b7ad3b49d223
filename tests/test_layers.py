"""The package's import graph is one-directional (docs/design.md, "Layers").

Each package may import only packages of a lower layer: ``vta`` < ``space`` < ``workflow`` <
``models``, ``measure`` < ``tuners`` < ``report`` < ``stages`` < ``cli``. The test reads every
module's imports (module level and inside functions) with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "ml2tuner"

LAYERS = {
    "vta": 0,
    "space": 1,
    "workflow": 2,
    "models": 3,
    "measure": 3,
    "tuners": 4,
    "report": 5,
    "stages": 6,
    "cli": 7,
}


def _package_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_packages(path: Path) -> set[str]:
    """The ml2tuner packages a module imports (absolute or relative)."""
    here = path.relative_to(PACKAGE).parent.parts  # e.g. ("stages",)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[: len(here) - (node.level - 1)]) if node.level > 1 else list(here)
                parts = base + (node.module.split(".") if node.module else [])
                names = [parts] if parts else [[alias.name] for alias in node.names]
            elif node.module and node.module.startswith("ml2tuner."):
                names = [node.module.split(".")[1:]]
            else:
                continue
            found.update(p[0] for p in names if p)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ml2tuner."):
                    found.add(alias.name.split(".")[1])
    return found & set(LAYERS)


def _edges() -> list[tuple[str, str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name != "cli.py":
            continue  # __init__.py, __main__: the package's version only
        source = _package_of(path)
        for target in imported_packages(path) - {source}:
            edges.append((source, target, str(path.relative_to(PACKAGE))))
    return edges


def test_the_import_scanner_sees_relative_and_function_level_imports():
    assert {"workflow", "tuners", "vta"} <= {t for s, t, _ in _edges() if s == "cli"}
    assert "vta" in imported_packages(PACKAGE / "stages" / "simulate.py")  # inside a function


@pytest.mark.parametrize("package", sorted(set(LAYERS) - {"cli"}))
def test_every_package_imports_only_lower_layers(package):
    upward = [
        f"{where} imports {target}"
        for source, target, where in _edges()
        if source == package and LAYERS[target] >= LAYERS[source]
    ]
    assert not upward, "; ".join(upward)
