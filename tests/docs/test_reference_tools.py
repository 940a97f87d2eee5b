"""The docs' own checks (scripts/docs/): an undocumented setting fails the generation, the nav
holds every page, and the built-HTML check finds a link to a missing page or anchor."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tests.support.paths import ROOT

SCRIPTS = ROOT / "scripts" / "docs"


@pytest.fixture
def docs_scripts(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import check_site
    import ref_settings

    return {"check_site": check_site, "ref_settings": ref_settings}


class Documented(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VA_")

    poll_seconds: float = Field(2.0, gt=0, description="How often it polls.")
    retries: int = 3


def test_a_setting_without_a_description_fails_generation(docs_scripts: dict[str, ModuleType]) -> None:
    ref = docs_scripts["ref_settings"]
    rows = ref.table(Documented, ["poll_seconds"])
    assert "| `VA_POLL_SECONDS` | float (&gt; 0) | `2.0` | How often it polls. |" in rows
    with pytest.raises(ref.UndocumentedSetting, match="VA_RETRIES"):
        ref.table(Documented, ["retries"])


def test_notes_may_only_name_the_components_variables(docs_scripts: dict[str, ModuleType]) -> None:
    ref = docs_scripts["ref_settings"]
    ref.check_notes(Documented, "| `VA_POLL_SECONDS` | 2 | more |", Path("notes.md"))
    with pytest.raises(ref.UndocumentedSetting, match="VA_GONE"):
        ref.check_notes(Documented, "| `VA_GONE` | 2 | removed |", Path("notes.md"))


def test_the_nav_holds_every_page(docs_scripts: dict[str, ModuleType]) -> None:
    assert docs_scripts["check_site"].check_nav(ROOT / "mkdocs.yml") == []


def test_the_html_check_finds_missing_pages_and_anchors(docs_scripts: dict[str, ModuleType], tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text('<h2 id="here">x</h2><a href="b.html#there">b</a><a href="#here">a</a>')
    (tmp_path / "b.html").write_text(
        '<a href="a.html#gone">a</a><a href="c.html">c</a><a href="https://x.invalid/">x</a>'
    )
    problems = docs_scripts["check_site"].check_html(tmp_path)
    assert sorted(problems) == [
        "a.html: link b.html#there: no id 'there' in b.html",
        "b.html: link a.html#gone: no id 'gone' in a.html",
        "b.html: link c.html reaches no file",
    ]
