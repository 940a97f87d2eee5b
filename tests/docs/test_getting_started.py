"""The commands of docs/get-started/first-analysis.md, run as written against a server started as
`make run` starts it (only the port differs): each block marked `<!-- docs-test: NAME -->` runs
in bash with `set -euo pipefail` and must end with a viewer link that answers 200. With
`VA_DOCS_SCREENSHOT=PATH` (`make docs-screenshot`), Chromium opens that link and the page's
screenshot is written to PATH, the image the viewer page of the docs shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import chromium
from tests.support.paths import ROOT

PAGE = ROOT / "docs" / "get-started" / "first-analysis.md"
BLOCK = re.compile(r"<!-- docs-test: (\w+) -->\n```sh\n(.*?)```", re.S)
DOCS_ADDRESS = "127.0.0.1:8000"
VIDEO = "tests/data/astronaut-pan.mp4"


def blocks() -> dict[str, str]:
    return dict(BLOCK.findall(PAGE.read_text()))


def test_the_page_marks_its_commands() -> None:
    found = blocks()
    assert set(found) == {"cli", "curl"}, f"marked blocks in {PAGE.name}: {sorted(found)}"
    assert all(DOCS_ADDRESS in text and VIDEO in text for text in found.values())


def run_block(script: str, url: str, work: Path) -> list[str]:
    """Run one block in `work` (where the video lies at the path the page names); its stdout lines."""
    (work / VIDEO).parent.mkdir(parents=True, exist_ok=True)
    if not (work / VIDEO).exists():
        (work / VIDEO).symlink_to(ROOT / VIDEO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VA_")}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}", VA_CONFIG_DIR=str(work / "config"))
    script = script.replace(DOCS_ADDRESS, url.removeprefix("http://"))
    done = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{script}"], cwd=work, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, f"exit {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    return done.stdout.strip().splitlines()


def answers_200(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status == 200


@pytest.mark.parametrize("name", ["cli", "curl"])
def test_commands_run_as_written(name: str, docs_api: str, tmp_path: Path) -> None:
    lines = run_block(blocks()[name], docs_api, tmp_path)
    link = lines[-1]
    assert link.startswith(f"{docs_api}/tasks/") and "viewer_token=" in link, lines[-5:]
    assert answers_200(link)
    if name == "curl":
        assert lines[-2] == "200" and "SUCCEEDED" in lines
    else:
        assert (tmp_path / "pan.csv").read_text().startswith("frame,timestamp,label,score")
        shot = os.environ.get("VA_DOCS_SCREENSHOT")
        if shot:
            screenshot(link, Path(shot), tmp_path / "profile")


def screenshot(link: str, path: Path, profile: Path) -> None:
    """The viewer of the analysed task, a few analysed frames in, as a PNG at `path`."""
    with chromium(profile) as browser:
        browser.get(link)
        WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.body.dataset.loaded") == "true")
        for _ in range(12):
            browser.find_element(By.ID, "next").click()
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(true), 200)));"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(browser.get_screenshot_as_png())
