"""An upload by URL (`video_url` instead of a file): the URL passes the SSRF guard and its first
bytes must announce a video container, read with one Range request; nothing is stored here.
The job fetches the video itself (videoanalysis.video_fetch), checking the URL again.

A refusal says why, except for a server inside the network (a special-purpose address the
allow-list lets in): its status or a refused port would make the probe a map of the internal
services that an allowed network holds, so the user only learns "not a video" (415, as for a
file of another kind) and the reason goes to the log. A public server's answer is what anyone
could get from it directly, so it is shown (`answered 403 Forbidden: it has expired ...`), and
so is a public server too slow to answer (`the server sent 12 bytes in 10 s, below the minimum
of 64 KiB/s`, `the first bytes of the video did not arrive within 10 s`).

The probe blocks (name resolution, httpx), so it runs in a `UrlProber`: a few threads of its
own, never Starlette's shared pool, whose threads every `run_in_threadpool` of the API needs. A
probe ends within VA_VIDEO_URL_PROBE_SECONDS (videoanalysis.pacing cuts a trickling server off);
when every thread is busy the upload is answered 503 with Retry-After at once, never queued."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from fastapi import HTTPException, status

from videoanalysis.storage import container_type
from videoanalysis.video_fetch import RemoteVideoError, UnsafeURL, VideoUrlPolicy, check_video_url, read_head

log = logging.getLogger(__name__)
NOT_A_VIDEO = "video_url does not point to a video (unknown container; expected MP4, MOV, AVI, MKV, WebM, ...)"
#: Beyond the probe's own deadline, how long the API waits for its thread (name resolution, which
#: no deadline interrupts, may hold it) before answering without it.
SLACK_S = 2.0


def _probe(url: str, policy: VideoUrlPolicy, deadline_s: float) -> None:
    try:
        check_video_url(url, policy)
        head = read_head(url, policy, deadline_s=deadline_s)
    except RemoteVideoError as exc:
        if exc.private:
            log.info("video_url %s refused as not a video: %s", urlsplit(url).netloc, exc)
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=NOT_A_VIDEO) from None
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except UnsafeURL as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    if container_type(head) is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=NOT_A_VIDEO)


class UrlProber:
    """`threads` probes at once, each within `deadline_s`; a thread is counted busy until its
    probe has really ended (a client that went away does not free it early)."""

    def __init__(self, threads: int, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        self._free = threading.BoundedSemaphore(threads)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="va-url-probe")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def probe(self, url: str, policy: VideoUrlPolicy) -> None:
        if not self._free.acquire(blocking=False):
            retry = math.ceil(self.deadline_s)
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=f"too many video URLs are being checked at once; retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )
        try:
            future = self._pool.submit(_probe, url, policy, self.deadline_s)
        except BaseException:
            self._free.release()
            raise
        future.add_done_callback(lambda _: self._free.release())  # ended, or cancelled before it began
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), self.deadline_s + SLACK_S)
        except TimeoutError:
            log.warning("video_url %s: the probe overran its deadline", urlsplit(url).netloc)
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"the video URL could not be checked within {self.deadline_s:g} s",
            ) from None


async def probe_video_url(url: str, policy: VideoUrlPolicy, prober: UrlProber) -> str:
    """Check the URL (422 with the reason, 415 when it is not a video or an inside server does
    not serve one, 503 when the prober is full); returns the video's name (the last path
    segment, without the query that may hold a signature)."""
    await prober.probe(url, policy)
    return PurePosixPath(urlsplit(url).path).name[:255]
