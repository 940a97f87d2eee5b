"""An upload by URL (`video_url` instead of a file): the URL passes the SSRF guard and its first
bytes must announce a video container, read with one Range request; nothing is stored here.
The job fetches the video itself (videoanalysis.remote), checking the URL again."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from fastapi import HTTPException, status
from fastapi.concurrency import run_in_threadpool

from videoanalysis.remote import RemoteVideoError, UnsafeURL, VideoUrlPolicy, check_video_url, read_head
from videoanalysis.storage import container_type


def _probe(url: str, policy: VideoUrlPolicy) -> None:
    try:
        check_video_url(url, policy)
        head = read_head(url, policy)
    except (UnsafeURL, RemoteVideoError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    if container_type(head) is None:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="video_url does not point to a video (unknown container; expected MP4, MOV, AVI, MKV, WebM, ...)",
        )


async def probe_video_url(url: str, policy: VideoUrlPolicy) -> str:
    """Check the URL (422 with the reason, 415 when it is not a video); returns the video's
    name (the last path segment, without the query that may hold a signature)."""
    await run_in_threadpool(_probe, url, policy)
    return PurePosixPath(urlsplit(url).path).name[:255]
