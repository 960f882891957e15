"""The README promises two commands, a notebook map and a Binder badge; check they match the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts import load_script

import cosp_helpers as cosp

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_COMMAND = ".venv/bin/python -m pytest"


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no section '## {title}'"
    return match.group(1)


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_set_up_is_exactly_two_commands() -> None:
    blocks = _bash_blocks(_section("Set-up: two commands"))
    assert len(blocks) == 2, blocks
    install, test = blocks
    assert "\n" not in install and "\n" not in test, "each command must be a single line"
    assert install.startswith("python3.11 -m venv .venv && ")
    assert ".venv/bin/pip install -r requirements.txt" in install
    assert install.endswith(".venv/bin/jupyter lab notebooks/00_start_here.ipynb")
    assert test == TEST_COMMAND


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines()]
    assert TEST_COMMAND in lines, ".ci/run must run the README's test command as a line of its own"
    assert ".venv/bin/python -m pip install" in ci and "-r requirements.txt" in ci
    # the book's and the slides' scripts, pinned in package-lock.json: the README's set-up names the same command
    npm = [i for i, line in enumerate(lines) if line.startswith("npm ci")]
    assert npm and npm[0] < lines.index(TEST_COMMAND), ".ci/run must run npm ci before the tests"
    assert "`npm ci`" in _section("Set-up: two commands")


def test_notebook_map_lists_every_notebook_with_a_run_time() -> None:
    table = _section("Notebook map")
    available = cosp.course.available_notebooks(ROOT / "notebooks")
    for number in available:
        info = cosp.course.COURSE[number]
        row = re.search(rf"^\| {number:02d} \| \[{re.escape(info.title)}\]\(notebooks/{cosp.course.notebook_filename(info)}\) \|.*\| (\d+) s \|$", table, re.M)
        assert row, f"the notebook map lacks a row (with a run time) for {cosp.course.notebook_filename(info)}"
    flat = " ".join(table.split())  # the list of notebooks in preparation wraps across lines
    for info in cosp.course.COURSE:
        if info.number not in available:
            assert f"{info.number:02d} {info.title}" in flat, f"'{info.number:02d} {info.title}' missing from 'In preparation'"


def _repository_module():
    return load_script("kit/repository.py")


def test_binder_badge_opens_the_first_notebook() -> None:
    badge = re.search(r"\(https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/HEAD\?labpath=notebooks%2F00_start_here\.ipynb\)", README)
    assert badge, "the README needs a Launch-on-Binder badge opening notebooks/00_start_here.ipynb"


def test_binder_badge_is_written_from_the_one_repository_setting() -> None:
    repository = _repository_module()
    slug = repository.slug()  # repository.url in book/_config.yml, which the book's buttons read too
    assert repository.badge(slug) in README, "the README's badge disagrees with book/_config.yml: run kit/repository.py " + slug
    assert README.count("mybinder.org/v2/gh/") == 1, "the repository's address appears in the README only in its badge"
    values = repository.VALUES.read_text(encoding="utf-8")
    assert f"    name: {repository.image(slug)}\n" in values, "the hub's image disagrees: run kit/repository.py " + slug


def test_a_fork_changes_the_repository_in_one_command(tmp_path) -> None:
    repository = _repository_module()
    config, readme, values = tmp_path / "_config.yml", tmp_path / "README.md", tmp_path / "z2jh-values.yaml"
    config.write_text((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"), encoding="utf-8")
    readme.write_text(README, encoding="utf-8")
    original_values = repository.VALUES.read_text(encoding="utf-8")
    values.write_text(original_values, encoding="utf-8")
    repository.write("someone-else/their-fork", config, readme, values)
    assert repository.slug(config) == "someone-else/their-fork"
    # the hub's single-user image (Zero to JupyterHub) follows, and nothing else in that file changes
    assert "    name: ghcr.io/someone-else/their-fork\n" in values.read_text(encoding="utf-8")
    assert values.read_text(encoding="utf-8").replace("someone-else/their-fork", repository.slug().lower()) == original_values
    assert repository.badge("someone-else/their-fork") in readme.read_text(encoding="utf-8")
    assert readme.read_text(encoding="utf-8").replace(repository.badge("someone-else/their-fork"), "") == README.replace(
        repository.badge(repository.slug()), ""), "nothing but the badge changes in the README"
    for bad in ("no-slash", "a/b/c", "owner/", " owner/name"):
        with pytest.raises(ValueError, match="repository must look like 'OWNER/NAME'"):
            repository.write(bad, config, readme, values)
    with pytest.raises(TypeError, match="repository must be a string"):
        repository.write(None, config, readme, values)


def test_local_links_exist() -> None:
    for target in re.findall(r"\]\((?!https?://)([^)#]+)\)", README):
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"
