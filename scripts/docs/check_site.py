"""Check the docs site beyond Zensical's strict build: every page of docs/ is in the nav (and
every nav entry exists), and in the built HTML every local link reaches a file and every
`#anchor` an id of its target page. Exit 1 listing each problem.

    .venv/bin/python scripts/docs/check_site.py [--site site]
"""

from __future__ import annotations

import argparse
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    """mkdocs.yml's `!!python/name:` tags name Python objects; only the nav is read here."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def nav_pages(nav: Any) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [p for item in nav for p in nav_pages(item)]
    if isinstance(nav, dict):
        return [p for value in nav.values() for p in nav_pages(value)]
    return []


def check_nav(config: Path) -> list[str]:
    conf = yaml.load(config.read_text(), Loader=_Loader)
    docs = ROOT / conf.get("docs_dir", "docs")
    listed = nav_pages(conf["nav"])
    problems = [f"nav entry {p} has no page docs/{p}" for p in listed if not (docs / p).is_file()]
    pages = sorted(str(p.relative_to(docs)) for p in docs.rglob("*.md"))
    problems += [f"docs/{p} is not in the nav of {config.name}" for p in pages if p not in listed]
    return problems


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(values[key] or "")
        for key in ("href", "src"):
            if values.get(key) and tag in {"a", "img", "link", "script"}:
                self.links.append(values[key] or "")


def check_html(site: Path) -> list[str]:
    parsed: dict[Path, _Page] = {}

    def page(path: Path) -> _Page:
        if path not in parsed:
            parser = _Page()
            parser.feed(path.read_text(errors="replace"))
            parsed[path] = parser
        return parsed[path]

    problems = []
    for html in sorted(site.rglob("*.html")):
        for link in page(html).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # external: not this site's to check
            base = site if parts.path.startswith("/") else html.parent  # the 404 page links from the root
            target = (base / unquote(parts.path).lstrip("/")).resolve() if parts.path else html
            if target.is_dir():
                target = target / "index.html"
            where = html.relative_to(site)
            if not target.exists():
                problems.append(f"{where}: link {link} reaches no file")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in page(target).ids:
                problems.append(f"{where}: link {link}: no id {parts.fragment!r} in {target.relative_to(site)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site", help="the built site (default: site/)")
    parser.add_argument("--config", type=Path, default=ROOT / "mkdocs.yml")
    args = parser.parse_args(argv)
    if not args.site.is_dir():
        sys.stderr.write(f"{args.site} is not a built site: run the build first\n")
        return 1
    problems = check_nav(args.config) + check_html(args.site.resolve())
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    pages = len(list(args.site.rglob("*.html")))
    print(f"{pages} pages checked: {'ok' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
