"""Zones and lines through the API: given at upload as JSON fields, checked against the
video's frame, and the events read back page by page with filters; bad geometry is a 422
naming it."""

from __future__ import annotations

import json

import pytest

from bench.tracking_scenes import scene_video
from tests.support.uploads import UPLOAD, wait_final

LINES = [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}]
ZONES = [{"name": "right", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}]


@pytest.fixture(scope="module")
def crossing(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return scene_video("crossing", tmp_path_factory.mktemp("events") / "crossing.avi").read_bytes()


async def test_events_are_read_in_frame_order_with_filters_and_pages(api_client, signup_user, crossing):
    _, headers = await signup_user(api_client)
    data = {"zones": json.dumps(ZONES), "lines": json.dumps(LINES)}
    resp = await api_client.post(
        UPLOAD, headers=headers, files={"videofile": ("crossing.avi", crossing, "video/x-msvideo")}, data=data
    )
    assert resp.status_code == 202, resp.text
    task_id = resp.json()["task_id"]
    assert resp.json()["params"]["zones"][0]["name"] == "right"
    result = await wait_final(api_client, headers, task_id)
    assert result["status"] == "SUCCEEDED", result["error"]
    assert result["summary"]["lines"] == {"middle": {"face": {"in": 1, "out": 1}}}
    right = result["summary"]["zones"]["right"]["face"]
    assert (right["entered"], right["left"]) == (2, 2) and right["mean_dwell_seconds"] > 0
    listed = (await api_client.get("/tasks/", headers=headers)).json()["tasks"]
    assert listed[0]["summary"]["zones"] == result["summary"]["zones"]
    everything = (await api_client.get(f"/tasks/{task_id}/events/", headers=headers)).json()
    events = everything["events"]
    assert everything["next_cursor"] is None and len(events) == 6
    assert sorted(e["kind"] for e in events) == ["entered", "entered", "in", "left", "left", "out"]
    assert [e["frame_index"] for e in events] == sorted(e["frame_index"] for e in events)
    paged, cursor = [], None
    while True:
        query = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await api_client.get(f"/tasks/{task_id}/events/", headers=headers, params=query)).json()
        paged += page["events"]
        if not (cursor := page["next_cursor"]):
            break
    assert paged == events
    crossings = await api_client.get(f"/tasks/{task_id}/events/", headers=headers, params={"rule": "middle"})
    assert sorted(e["kind"] for e in crossings.json()["events"]) == ["in", "out"]
    late = min(e["timestamp"] for e in events if e["kind"] == "left")
    after = await api_client.get(f"/tasks/{task_id}/events/", headers=headers, params={"since_s": late, "kind": "left"})
    assert [e["timestamp"] >= late for e in after.json()["events"]] == [True] * len(after.json()["events"]) != []
    _, stranger = await signup_user(api_client)
    assert (await api_client.get(f"/tasks/{task_id}/events/", headers=stranger)).status_code == 404
    bad = await api_client.get(f"/tasks/{task_id}/events/", headers=headers, params={"cursor": "x"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"zones": "[{"}, "zones: not JSON"),
        ({"zones": json.dumps([{"name": "z", "polygon": [[0, 0], [1, 1]]}])}, "zone z: a polygon needs at least 3"),
        ({"lines": json.dumps(LINES), "tracker": "none"}, "they need a tracker"),
        (
            {"lines": json.dumps([{"name": "wide", "units": "pixels", "start": [0, 0], "end": [900, 10]}])},
            "wide: point (900, 10) is outside the 640x360 frame",
        ),
    ],
)
async def test_bad_zones_and_lines_are_refused_naming_them(api_client, signup_user, crossing, data, reason):
    _, headers = await signup_user(api_client)
    files = {"videofile": ("crossing.avi", crossing, "video/x-msvideo")}
    resp = await api_client.post(UPLOAD, headers=headers, files=files, data=data)
    assert resp.status_code == 422 and reason in resp.json()["detail"], resp.text


TRIANGLE = [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2]]


@pytest.mark.parametrize(
    "api_client", [{"max_zones": 2, "max_zone_vertices": 4, "max_zone_pixels": 40_000}], indirect=True
)
@pytest.mark.parametrize(
    ("rules", "reason"),
    [
        ({"zones": [{"name": f"z{i}", "polygon": TRIANGLE} for i in range(3)]}, "3 zones: at most 2 (VA_MAX_ZONES)"),
        (
            {"zones": [{"name": "star", "polygon": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.2], [0.2, 0.3], [0.1, 0.2]]}]},
            "zone star: 5 vertices, at most 4 (VA_MAX_ZONE_VERTICES)",
        ),
        (
            {"zones": [{"name": "big", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
            "the zones cover 232404 mask pixels over the 640x360 frame, at most 40000 (VA_MAX_ZONE_PIXELS)",
        ),
    ],
)
async def test_zones_over_the_server_s_limits_are_refused(api_client, signup_user, crossing, rules, reason):
    _, headers = await signup_user(api_client)
    files = {"videofile": ("crossing.avi", crossing, "video/x-msvideo")}
    data = {k: json.dumps(v) for k, v in rules.items()}
    resp = await api_client.post(UPLOAD, headers=headers, files=files, data=data)
    assert resp.status_code == 422 and reason in resp.json()["detail"], resp.text
