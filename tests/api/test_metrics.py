"""Prometheus metrics of the API, read back through /metrics."""

from __future__ import annotations

import re
import uuid

from prometheus_client.parser import text_string_to_metric_families

from tests.support.videos import noise_video


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(client) -> dict[tuple[str, tuple], float]:
    resp = await client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    return samples(resp.text)


async def test_requests_uploads_and_tasks_are_counted(api_client, signup_user, tmp_path):
    _, headers = await signup_user(api_client)
    before = await scrape(api_client)
    route = "/tasks/video-analysis-result/{task_id}/"
    for _ in range(3):  # three different ids, one route template
        await api_client.get(f"/tasks/video-analysis-result/{uuid.uuid4()}/", headers=headers)
    clip = noise_video(tmp_path / "n.mp4", frames=4).read_bytes()
    ok = await api_client.post(
        "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("n.mp4", clip, "video/mp4")}
    )
    bad = await api_client.post(
        "/tasks/video-objects-detection/", headers=headers, files={"videofile": ("n.mp4", b"not a video", "video/mp4")}
    )
    assert (ok.status_code, bad.status_code) == (202, 415)
    after = await scrape(api_client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("va_http_requests_total", method="GET", route=route, status="404") == 3
    assert delta("va_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert delta("va_uploads_total", outcome="accepted") == 1
    assert delta("va_uploads_total", outcome="415") == 1
    assert delta("va_upload_bytes_total") == len(clip)
    routes = {dict(k[1])["route"] for k in after if k[0] == "va_http_requests_total"}
    assert not any(re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", r) for r in routes)  # templates only
    pending_or_done = sum(
        after[("va_tasks", (("status", s),))] for s in ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
    )
    assert pending_or_done >= 1
