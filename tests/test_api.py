"""Tests of the public API: what cosp_helpers exports and how it is documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import cosp_helpers

CONSTANTS = {"COURSE", "CONCEPTS", "NOT_ANSWERED", "SEED_STRIDE"}
PUBLIC_MODULES = sorted(m.name for m in pkgutil.iter_modules(cosp_helpers.__path__) if not m.name.startswith("_"))


def test_every_public_module_is_listed_in_the_package_docstring():
    for module in PUBLIC_MODULES:
        assert f":mod:`~cosp_helpers.{module}`" in cosp_helpers.__doc__, module


def test_all_has_no_duplicates():
    names = list(cosp_helpers.__all__)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == []


@pytest.mark.parametrize("name", cosp_helpers.__all__)
def test_every_exported_name_exists(name):
    assert hasattr(cosp_helpers, name)
    assert not name.startswith("_")


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_module_all_is_reexported_at_top_level(module_name):
    module = importlib.import_module(f"cosp_helpers.{module_name}")
    assert module.__all__, module_name
    for name in module.__all__:
        assert name in cosp_helpers.__all__, name
        assert getattr(cosp_helpers, name) is getattr(module, name), name


def test_top_level_all_is_exactly_the_modules_all():
    union = [n for m in PUBLIC_MODULES for n in importlib.import_module(f"cosp_helpers.{m}").__all__]
    assert sorted(cosp_helpers.__all__) == sorted(union)


def test_constants_are_data():
    for name in CONSTANTS:
        assert name in cosp_helpers.__all__
        assert not callable(getattr(cosp_helpers, name))
    assert isinstance(cosp_helpers.NOT_ANSWERED, str)


@pytest.mark.parametrize("name", cosp_helpers.__all__)
def test_public_callables_have_numpy_docstrings_with_examples(name):
    obj = getattr(cosp_helpers, name)
    if name in CONSTANTS:
        assert not callable(obj)
        return
    assert callable(obj), name
    doc = inspect.getdoc(obj)
    assert doc, f"{name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.strip() and not summary.startswith(" "), f"{name}: the docstring must open with a summary line"
    match = re.search(r"^Examples\n-{8}\n", doc, flags=re.MULTILINE)
    assert match, f"{name}: no numpy-style 'Examples' section"
    assert re.search(r"^>>> ", doc[match.end():], flags=re.MULTILINE), f"{name}: the Examples section has no >>> line"


def test_version_matches_metadata():
    from importlib import metadata

    assert cosp_helpers.__version__ == metadata.version("cosp_helpers")
