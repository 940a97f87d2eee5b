"""An upload by URL (`video_url` instead of a file): the URL passes the SSRF guard and its first
bytes must announce a video container, read with one Range request; nothing is stored here.
The job fetches the video itself (videoanalysis.remote), checking the URL again.

A refusal says why, except for a server inside the network (a special-purpose address the
allow-list lets in): its status or a refused port would make the probe a map of the internal
services that an allowed network holds, so the user only learns "not a video" (415, as for a
file of another kind) and the reason goes to the log. A public server's answer is what anyone
could get from it directly, so it is shown (`answered 403 Forbidden: it has expired ...`)."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool

from videoanalysis.remote import RemoteVideoError, UnsafeURL, VideoUrlPolicy, check_video_url, read_head
from videoanalysis.storage import container_type

log = logging.getLogger(__name__)
NOT_A_VIDEO = "video_url does not point to a video (unknown container; expected MP4, MOV, AVI, MKV, WebM, ...)"


def _probe(url: str, policy: VideoUrlPolicy) -> None:
    try:
        check_video_url(url, policy)
        head = read_head(url, policy)
    except RemoteVideoError as exc:
        if exc.private:
            log.info("video_url %s refused as not a video: %s", urlsplit(url).netloc, exc)
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=NOT_A_VIDEO) from None
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    except UnsafeURL as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    if container_type(head) is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=NOT_A_VIDEO)


async def probe_video_url(url: str, policy: VideoUrlPolicy) -> str:
    """Check the URL (422 with the reason, 415 when it is not a video or an inside server does
    not serve one); returns the video's name (the last path segment, without the query that may
    hold a signature)."""
    await run_in_threadpool(_probe, url, policy)
    return PurePosixPath(urlsplit(url).path).name[:255]
