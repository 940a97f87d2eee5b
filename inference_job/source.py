"""Where the job reads a task's video from: the videos volume, or its URL.

OpenCV's decoder reads files, and handing it the URL would let FFmpeg resolve the host again
and follow redirects past the SSRF guard. So a URL video is fetched by the project's own HTTP
client (videoanalysis.video_fetch: checked and pinned address, capped, resumed with Range after a
dropped connection) in chunks to a temporary file on the job's local disk (the Job's `/tmp`
emptyDir), decoded from there and deleted when the run ends. It is never held in memory.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from inference_job.config import JobSettings
from videoanalysis.storage import resolve_uri
from videoanalysis.video_fetch import RemoteVideoError, UnsafeURL, download, is_url


@asynccontextmanager
async def local_video(uri: str, settings: JobSettings) -> AsyncIterator[Path]:
    """A path the decoder can open for `uri`; a URL's video lives only inside the block.
    Raises RemoteVideoError with the reason (a refused URL included)."""
    if not is_url(uri):
        yield Path(resolve_uri(uri, settings.resolved_videos_dir))
        return
    suffix = PurePosixPath(urlsplit(uri).path).suffix[:8]
    with tempfile.TemporaryDirectory(prefix="va-video-") as folder:
        dest = Path(folder) / f"video{suffix}"
        try:
            await asyncio.to_thread(download, uri, dest, settings.video_url_policy)
        except UnsafeURL as exc:
            raise RemoteVideoError(f"the video URL is refused: {exc}") from None
        yield dest
