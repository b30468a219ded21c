"""The library's public API is documented: every module says what it is, every public name too."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import explainer

MODULES = sorted(m.name for m in pkgutil.walk_packages(explainer.__path__, "explainer."))


def test_the_library_has_its_layers():
    names = set(MODULES)
    for layer in ("explainer.data", "explainer.controls", "explainer.widgets", "explainer.charts",
                  "explainer.figures", "explainer.costs", "explainer.gpt"):
        assert layer in names


@pytest.mark.parametrize("name", MODULES)
def test_every_module_has_a_docstring_and_a_public_api(name):
    module = importlib.import_module(name)
    assert (module.__doc__ or "").strip(), f"{name} has no module docstring"
    if name.startswith("explainer.figures._"):
        return
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ lists {public!r}, which it does not define"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_and_class_is_documented(name):
    module = importlib.import_module(name)
    missing = []
    for public in getattr(module, "__all__", []):
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            if obj.__module__ == name and not (inspect.getdoc(obj) or "").strip():
                missing.append(public)
            if inspect.isclass(obj):
                missing += [f"{public}.{m}" for m, f in vars(obj).items()
                            if inspect.isfunction(f) and not m.startswith("_")
                            and not (inspect.getdoc(f) or "").strip()]
    assert missing == [], f"{name}: undocumented public names {missing}"
