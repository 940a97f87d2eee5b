"""Swagger UI and ReDoc load with every host but the API's unreachable: their scripts and styles
are served by the API itself (api/docs_ui.py), and the page lists the operations of the API's
OpenAPI document."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import OFFLINE_ARGS, chromium

ALL_RESOURCES_JS = "return performance.getEntriesByType('resource').map(e => e.name)"
NON_IMAGE_RESOURCES_JS = (
    "return performance.getEntriesByType('resource').filter(e => e.initiatorType !== 'img').map(e => e.name)"
)


@pytest.fixture(scope="module")
def offline_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium(tmp_path_factory.mktemp("chromium-offline"), *OFFLINE_ARGS) as driver:
        yield driver


def operations(url: str) -> int:
    with urllib.request.urlopen(f"{url}/openapi.json", timeout=10) as resp:
        doc = json.load(resp)
    return sum(1 for item in doc["paths"].values() for method in item if method in {"get", "post", "patch", "delete"})


def test_swagger_ui_lists_the_operations_offline(docs_api: str, offline_browser: Any) -> None:
    offline_browser.get(f"{docs_api}/docs")
    expected = operations(docs_api)
    WebDriverWait(offline_browser, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('.opblock').length") >= expected
    )
    assert "/tasks/video-objects-detection/" in offline_browser.page_source
    names = offline_browser.execute_script(ALL_RESOURCES_JS)
    assert all(name.startswith(docs_api) for name in names), names


def test_redoc_renders_offline(docs_api: str, offline_browser: Any) -> None:
    offline_browser.get(f"{docs_api}/redoc")
    WebDriverWait(offline_browser, 20).until(
        lambda d: d.execute_script("return document.querySelectorAll('[data-section-id^=\"operation/\"]').length") > 0
    )
    # Scripts, styles and the document come from the API; ReDoc's footer asks its CDN for a logo
    # image, which fails offline and changes nothing on the page.
    names = offline_browser.execute_script(NON_IMAGE_RESOURCES_JS)
    assert all(name.startswith(docs_api) for name in names), names
