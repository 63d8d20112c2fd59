"""Packages that name their contents without importing them (PEP 562): importing one light
module of a package (the command line's scenario names) never pays for torch or MNE."""
from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, where: dict[str, tuple[str, ...]]):
    """``(__getattr__, __dir__, __all__)`` for ``package``: each name loads its module on use."""
    module_of = {name: module for module, names in where.items() for name in names}
    names = sorted(module_of)

    def __getattr__(name: str):
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    def __dir__():
        return names

    return __getattr__, __dir__, names
