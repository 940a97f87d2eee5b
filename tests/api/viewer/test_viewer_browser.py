"""The viewer page in a real headless Chromium against the real API: boxes drawn over the playing
video at the right places (pixel checks on screenshots), the score filter, frame steps, the
still-image fallback for a codec the browser cannot play, and refusals."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from api.viewer.boxes import label_colour
from tests.api.viewer.pixels import edge_hits, stray_pixels, to_display
from tests.support.uploads import Analysed, viewer_token

SHOTS = Path(os.environ.get("VA_VIEWER_SHOTS", "/tmp"))
SETTLE_JS = """
const done = arguments[arguments.length - 1], v = document.getElementById('video');
const paint = () => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => done(true), 50)));
if (!v.hidden && v.seeking) v.addEventListener('seeked', paint, {once: true}); else paint();
"""


def _open(browser, url: str, task_id: str, token: str) -> None:
    browser.get(f"{url}/tasks/{task_id}/view?viewer_token={viewer_token(url, token, task_id)}")
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return document.body.dataset.loaded") == "true")


def _step_to(browser, frame: int) -> None:
    """Click the frame-step buttons until the overlay shows analysed frame `frame`."""
    for _ in range(40):
        shown = browser.execute_script("return document.getElementById('overlay').dataset.frame")
        if shown == str(frame):
            break
        button = "next" if shown == "" or int(shown) < frame else "prev"
        browser.find_element(By.ID, button).click()
        browser.execute_async_script(SETTLE_JS)
    assert browser.execute_script("return document.getElementById('overlay').dataset.frame") == str(frame)
    browser.execute_async_script(SETTLE_JS)


def _shot(browser, name: str) -> tuple[np.ndarray, dict]:
    """The viewport as RGB, and where the picture lies in it (x, y, scale)."""
    png = browser.get_screenshot_as_png()
    (SHOTS / name).write_bytes(png)
    img = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    geo = browser.execute_script("""
        const r = window.viewer.contentRect(), s = document.getElementById('stage').getBoundingClientRect();
        return {x: s.left + r.x, y: s.top + r.y, scale: r.scale, dpr: window.devicePixelRatio};""")
    assert geo["dpr"] == 1
    return img, geo


def _assert_box_drawn(img: np.ndarray, geo: dict, box: list[float], size: tuple[int, int]) -> None:
    """The face colour on the scaled box's edges, and nowhere else on the picture (the page's
    legend and timeline use the colour too, so only the picture is searched for strays)."""
    shown = to_display(box, geo["x"], geo["y"], geo["scale"])
    colour = label_colour("face")
    assert edge_hits(img, shown, colour, tol=12) >= 0.95
    x0, y0 = round(geo["x"]), round(geo["y"])
    picture = img[y0 : y0 + round(size[1] * geo["scale"]), x0 : x0 + round(size[0] * geo["scale"])]
    local = to_display(box, geo["x"] - x0, geo["y"] - y0, geo["scale"])
    assert stray_pixels(picture, local, colour, tol=12, label=(120, 22)) < 20


def _picture(img: np.ndarray, geo: dict, size: tuple[int, int]) -> np.ndarray:
    x, y, s = geo["x"], geo["y"], geo["scale"]
    w, h = size
    crop = img[round(y) : round(y + h * s), round(x) : round(x + w * s)]
    return cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(int)


def _decoded(path: Path, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB).astype(int)


def test_boxes_follow_the_video_and_the_score_filter(
    browser, api_server: str, viewer_tasks: dict[str, Analysed]
) -> None:
    task = viewer_tasks["webm"]
    _open(browser, api_server, task.task_id, task.token)
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2
    )
    assert browser.find_element(By.ID, "status").text == "SUCCEEDED"
    assert not browser.find_element(By.ID, "notice").is_displayed()
    frame = 10
    _step_to(browser, frame)
    img, geo = _shot(browser, "viewer-webm-frame10.png")
    assert geo["scale"] > 1.5  # the 320×240 video is shown enlarged: boxes must be scaled too
    _assert_box_drawn(img, geo, task.frames[frame]["objects"][0]["box"], task.video.size)
    assert "frame 10" in browser.find_element(By.ID, "frameinfo").text
    # The picture under the boxes is frame 10 itself, not a neighbour 5 frames (20 px) away.
    seen = _picture(img, geo, task.video.size)
    err = {i: np.abs(seen - _decoded(task.video.path, i)).mean() for i in (frame - 5, frame, frame + 5)}
    assert err[frame] < 0.6 * min(err[frame - 5], err[frame + 5]), err

    _step_to(browser, frame + 3)  # the box moved with the pan: drawn at the new place
    img, geo = _shot(browser, "viewer-webm-frame13.png")
    _assert_box_drawn(img, geo, task.frames[frame + 3]["objects"][0]["box"], task.video.size)

    browser.find_element(By.ID, "score").send_keys(Keys.END)  # minimum score 1.00: nothing passes
    browser.execute_async_script(SETTLE_JS)
    assert browser.find_element(By.ID, "scoreout").text == "1.00"
    img, geo = _shot(browser, "viewer-webm-filtered.png")
    shown = to_display(task.frames[frame + 3]["objects"][0]["box"], geo["x"], geo["y"], geo["scale"])
    assert edge_hits(img, shown, label_colour("face"), tol=12) < 0.1


def test_unplayable_codec_falls_back_to_server_frames(
    browser, api_server: str, viewer_tasks: dict[str, Analysed]
) -> None:
    task = viewer_tasks["mp4v"]  # MPEG-4 part 2: Chromium has no decoder for it; every 6th frame analysed
    _open(browser, api_server, task.task_id, task.token)
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "notice").is_displayed())
    assert "cannot play" in browser.find_element(By.ID, "notice").text
    _step_to(browser, 12)
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script(
            "const s = document.getElementById('still'); return s.complete && s.naturalWidth > 0 && s.src.includes('/frames/12.jpg')"
        )
    )
    browser.execute_async_script(SETTLE_JS)
    img, geo = _shot(browser, "viewer-mp4v-frame12.png")
    _assert_box_drawn(img, geo, task.frames[12]["objects"][0]["box"], task.video.size)
    browser.find_element(By.ID, "prev").click()
    browser.execute_async_script(SETTLE_JS)
    assert browser.execute_script("return document.getElementById('overlay').dataset.frame") == "6"


@pytest.mark.parametrize("who", ["other", "nobody"])
def test_the_page_refuses_anyone_but_the_owner(
    browser, api_server: str, viewer_tasks: dict[str, Analysed], other_token: str, who: str
) -> None:
    task = viewer_tasks["webm"]
    sibling = viewer_tasks["mp4v"]  # a viewer token of another task opens nothing here
    query = f"?viewer_token={viewer_token(api_server, sibling.token, sibling.task_id)}" if who == "other" else ""
    browser.get(f"{api_server}/tasks/{task.task_id}/view{query}")
    text = browser.find_element(By.ID, "refusal").text
    expected = f"task {task.task_id} not found" if who == "other" else "not authenticated"
    assert expected in text
    assert not browser.find_elements(By.ID, "video")


def test_tracks_list_thumbnails_trail_and_seek(browser, api_server: str, viewer_tasks: dict[str, Analysed]) -> None:
    """The side list shows each track with its thumbnail (loaded through the viewer link); a
    click seeks to the track's first analysed frame; a tracked box draws its trail (white)."""
    task = viewer_tasks["webm"]
    _open(browser, api_server, task.task_id, task.token)
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.getElementById('video').readyState") >= 2
    )
    buttons = browser.find_elements(By.CSS_SELECTOR, "#tracks button")
    assert [b.get_attribute("data-track") for b in buttons] == ["1"]
    assert "#1 face" in buttons[0].text
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.querySelector('#tracks img').naturalWidth") > 0
    )
    first = min(f for f, body in task.frames.items() if any(o["track_id"] == 1 for o in body["objects"]))
    _step_to(browser, 12)
    assert browser.execute_script("return document.getElementById('overlay').dataset.trails") == "1"
    img, geo = _shot(browser, "viewer-webm-trail.png")
    x1, y1, x2, y2 = to_display(task.frames[12]["objects"][0]["box"], geo["x"], geo["y"], geo["scale"])
    inside = img[round(y1) + 4 : round(y2) - 4, round(x1) + 4 : round(x2) - 4]
    assert int((inside.min(axis=2) > 245).sum()) >= 40  # the white trail (the face alone has under 20)
    buttons[0].click()
    browser.execute_async_script(SETTLE_JS)
    assert browser.execute_script("return document.getElementById('overlay').dataset.frame") == str(first)
