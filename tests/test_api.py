"""Tests of the public API: a small core at the top level, one namespace per concept, and how it is documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import cosp_helpers

CONSTANTS = {"COURSE", "CONCEPTS", "NOT_ANSWERED", "SEED_STRIDE", "OKABE_ITO", "COLOUR_MAPS"}
PUBLIC_MODULES = sorted(m.name for m in pkgutil.iter_modules(cosp_helpers.__path__) if not m.name.startswith("_"))
MODULES = {name: importlib.import_module(f"cosp_helpers.{name}") for name in PUBLIC_MODULES}
# every public name, as (namespace, name): the documentation and fuzz tests cover each once
PUBLIC = [(module, name) for module in PUBLIC_MODULES for name in MODULES[module].__all__]


def test_the_top_level_is_a_small_core():
    assert len(cosp_helpers.__all__) <= 40
    names = list(cosp_helpers.__all__)
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_namespace_is_a_module_listed_in_the_package_docstring():
    assert sorted(cosp_helpers.NAMESPACES) == PUBLIC_MODULES
    for module in PUBLIC_MODULES:
        assert getattr(cosp_helpers, module) is MODULES[module]
        assert f":mod:`~cosp_helpers.{module}`" in cosp_helpers.__doc__, module


@pytest.mark.parametrize("name", cosp_helpers.__all__)
def test_every_core_name_is_its_namespace_object(name):
    obj = getattr(cosp_helpers, name)
    homes = [m for m in PUBLIC_MODULES if name in MODULES[m].__all__]
    assert len(homes) == 1, f"{name} is public in {homes}: a core name has one namespace"
    assert getattr(MODULES[homes[0]], name) is obj


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_namespace_all_exists_and_is_public(module):
    names = MODULES[module].__all__
    assert names, module
    assert len(set(names)) == len(names), module
    for name in names:
        assert not name.startswith("_") and hasattr(MODULES[module], name), f"{module}.{name}"


def test_no_name_repeats_its_namespace():
    # cosp.curse.summary, not cosp.curse.curse_summary
    repeated = [f"{m}.{n}" for m, n in PUBLIC if n.lower().startswith(m.rstrip("s") + "_")]
    assert repeated == []


def test_constants_are_data():
    found = {n for _, n in PUBLIC if n in CONSTANTS}
    assert found == CONSTANTS
    for module, name in PUBLIC:
        if name in CONSTANTS:
            assert not callable(getattr(MODULES[module], name))
    assert isinstance(cosp_helpers.NOT_ANSWERED, str)


@pytest.mark.parametrize(("module", "name"), PUBLIC, ids=[f"{m}.{n}" for m, n in PUBLIC])
def test_public_callables_have_numpy_docstrings_with_examples(module, name):
    obj = getattr(MODULES[module], name)
    if name in CONSTANTS:
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
