"""A real headless Chromium under Debian's chromedriver (both installed by `make test-prereqs`,
see mk/viewer.mk), for the viewer's tests and the docs' (Swagger UI offline, the screenshot)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Every host but loopback unreachable: no name resolves, and what bypasses resolution meets a
#: proxy nobody serves (loopback is never proxied), so a page that needs the network shows it.
OFFLINE_ARGS = ("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9")


@contextmanager
def chromium(profile: Path, *extra_args: str) -> Iterator[Any]:
    """A fresh-profile headless Chromium, 1280×900 CSS px at DPR 1, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise RuntimeError("chromium/chromedriver missing: run `make test-prereqs` (mk/viewer.mk)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,900",
        "--force-device-scale-factor=1",
        "--mute-audio",
        f"--user-data-dir={profile}",
        *extra_args,
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
