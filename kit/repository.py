"""Where the repository lives on GitHub, set in one place: ``repository.url`` in ``book/_config.yml``.

The book's launch and repository buttons read that setting; the tests read it; the README's Binder badge and the
course hub's single-user image (``deploy/jupyterhub/z2jh-values.yaml``) are written from it. A fork changes the
address with one command::

    .venv/bin/python kit/repository.py OWNER/NAME   # set it in book/_config.yml, rewrite the badge and the image
    .venv/bin/python kit/repository.py              # print it, and exit 1 if the README's badge disagrees
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "book" / "_config.yml"
README = ROOT / "README.md"
VALUES = ROOT / "deploy" / "jupyterhub" / "z2jh-values.yaml"
SLUG = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
URL_LINE = re.compile(r"^(  url: https://github\.com/)(\S+)$", re.M)
IMAGE_LINE = re.compile(r"^(    name: ghcr\.io/)(\S+)$", re.M)  # the single-user image in VALUES
BADGE_LINE = re.compile(r"^\[!\[Launch on Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\(.*\)$", re.M)


def slug(config: Path = CONFIG) -> str:
    """``owner/name`` of the repository, from ``repository.url`` in the book's configuration."""
    found = URL_LINE.findall(Path(config).read_text(encoding="utf-8"))
    if len(found) != 1:
        raise ValueError(f"{config} must hold one line '  url: https://github.com/OWNER/NAME', found {len(found)}")
    return found[0][1]


def badge(repository: str) -> str:
    """The README's Launch-on-Binder badge for ``repository`` (``owner/name``), opening the first notebook."""
    return (
        f"[![Launch on Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{repository}/HEAD"
        "?labpath=notebooks%2F00_start_here.ipynb)"
    )


def check_slug(repository: object) -> str:
    if not isinstance(repository, str):
        raise TypeError(f"repository must be a string 'OWNER/NAME', got {type(repository).__name__}")
    if not SLUG.match(repository):
        raise ValueError(
            f"repository must look like 'OWNER/NAME' (a GitHub account and repository name), got {repository!r}"
        )
    return repository


def image(repository: str) -> str:
    """The Zero to JupyterHub single-user image of ``repository``: built by repo2docker, pushed to GitHub's registry."""
    return "ghcr.io/" + repository.lower()


def write(repository: str, config: Path = CONFIG, readme: Path = README, values: Path | None = VALUES) -> None:
    """Set ``repository`` in ``config``, rewrite the badge line of ``readme`` and the image of ``values``."""
    repository = check_slug(repository)
    text = Path(config).read_text(encoding="utf-8")
    slug(config)  # exactly one address line to change
    Path(config).write_text(URL_LINE.sub(lambda m: m.group(1) + repository, text), encoding="utf-8")
    page = Path(readme).read_text(encoding="utf-8")
    if len(BADGE_LINE.findall(page)) != 1:
        raise ValueError(f"{readme} must hold one Launch-on-Binder badge line")
    Path(readme).write_text(BADGE_LINE.sub(lambda m: badge(repository), page), encoding="utf-8")
    if values is not None:
        text = Path(values).read_text(encoding="utf-8")
        if len(IMAGE_LINE.findall(text)) != 1:
            raise ValueError(f"{values} must hold one line '    name: ghcr.io/OWNER/NAME'")
        Path(values).write_text(IMAGE_LINE.sub(lambda m: m.group(1) + repository.lower(), text), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repository", nargs="?", help="OWNER/NAME on GitHub (omit to print the current one)")
    args = parser.parse_args(argv)
    if args.repository is not None:
        try:
            write(args.repository)
        except (TypeError, ValueError) as error:
            parser.error(str(error))
    current = slug()
    print(current)
    if badge(current) not in README.read_text(encoding="utf-8"):
        print("the README's Binder badge points elsewhere: run kit/repository.py", current, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
