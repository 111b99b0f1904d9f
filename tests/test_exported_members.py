"""Every public package exports exactly what its __all__ names, and each name resolves."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["summarizer", "ingest", "storage", "bot"])
def test_all_names_resolve(package: str) -> None:
    module = importlib.import_module(package)
    exported = module.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n)) or len(set(exported)) == len(exported)
    for name in exported:
        assert getattr(module, name) is not None
    public = {n for n in vars(module) if not n.startswith("_")} - {"annotations"}
    submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
    assert public - submodules == set(exported)
