"""Every public package exports exactly what its __all__ names, sorted, and nothing reaches into
another package's private modules."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = [
    "summarizer",
    "ingest",
    "storage",
    "bot",
    "bot.cli",
    "bot.delivery",
    "bot.emulator",
    "bot.handlers",
    "bot.pipeline",
    "bot.robots",
]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_resolve(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    # Constants first, then the rest, each alphabetical (as ruff's RUF022 sorts).
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert getattr(module, name) is not None
    public = {n for n in vars(module) if not n.startswith("_")} - {"annotations"}
    submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
    assert public - submodules == set(exported)


def _private_imports(path: Path) -> list[str]:
    """Return the modules `path` imports that are private to a package (`pkg._mod`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [n for n in names if any(part.startswith("_") for part in n.split(".")[1:])]


@pytest.mark.parametrize("tree", ["summarizer", "ingest", "storage", "bot", "bench"])
def test_no_module_imports_another_packages_private_module(tree: str) -> None:
    offences = []
    for path in sorted((ROOT / tree).rglob("*.py")):
        where = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for name in _private_imports(path):
            # A private module is its package's own: `bot.delivery._outbox` is for `bot.delivery.*`.
            parts = name.split(".")
            owner = ".".join(parts[: next(i for i, part in enumerate(parts) if part.startswith("_"))])
            if not (where == owner or where.startswith(owner + ".")):
                offences.append(f"{path.relative_to(ROOT)}: {name}")
    assert offences == []
