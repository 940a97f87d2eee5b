"""Video storage on a filesystem shared by the API and the jobs (a local folder or a PVC).

A task's video is addressed by a URI that does not depend on where the folder is mounted:
`videos://<key>` resolves against `VA_VIDEOS_DIR` of whoever reads it; `file:///abs/path`
is accepted for videos that already live in that folder. Neither ever resolves outside it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from videoanalysis.video_probe import UndecodableVideo, VideoMeta, VideoReadError, probe_video

SCHEME = "videos://"


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds the limit of {limit} bytes")
        self.limit = limit


class NotAVideo(Exception):
    """The bytes are not a video container that can be decoded."""


def video_uri(key: str) -> str:
    return f"{SCHEME}{key}"


def resolve_uri(uri: str, videos_dir: Path) -> Path:
    """Map a video URI to a path on this machine, always inside `videos_dir`: a key or path
    that leads elsewhere (`..`, another absolute path, a symbolic link out) is a ValueError."""
    if uri.startswith(SCHEME):
        raw = videos_dir / uri[len(SCHEME) :]
    elif uri.startswith("file://") and uri[len("file://") :].startswith("/"):
        raw = Path(uri[len("file://") :])
    else:
        raise ValueError(f"unsupported video URI {uri!r} (expected {SCHEME}<key> or file:///path)")
    root = videos_dir.resolve()
    path = raw.resolve()
    if root not in path.parents:
        raise ValueError(f"video URI {uri!r} is outside the videos folder {root}")
    return path


def new_key(suffix: str) -> str:
    """A fresh key of the API's upload (`videoanalysis.uploadkeys.UPLOAD_KEY`)."""
    safe = suffix.lower() if suffix and len(suffix) <= 8 and suffix[1:].isalnum() else ".bin"
    return f"{uuid.uuid4().hex}{safe}"


async def save_stream(chunks: AsyncIterator[bytes], dest: Path, max_bytes: int) -> int:
    """Write chunks to `dest` as they arrive; stop with UploadTooLarge as soon as the cap is
    passed (the partial file is removed). Returns the number of bytes written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    written = 0
    try:
        with open(tmp, "wb") as out:
            async for chunk in chunks:
                written += len(chunk)
                if written > max_bytes:
                    raise UploadTooLarge(max_bytes)
                out.write(chunk)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


# Magic numbers of the video containers FFmpeg reads; an image (PNG, JPEG) is not among them
# although FFmpeg would open it as a one-frame stream.
def sniff_container(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
        return "mp4/mov"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska/webm"
    if head[:3] == b"FLV":
        return "flv"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "mpeg"
    if len(head) >= 189 and head[0] == 0x47 and head[188] == 0x47:
        return "mpeg-ts"
    if head[:4] == b"\x30\x26\xb2\x75":
        return "asf/wmv"
    return None


# The file extension and media type of each sniffed container (what the key and /video use).
CONTAINER_TYPES: dict[str, tuple[str, str]] = {
    "mp4": (".mp4", "video/mp4"),
    "mov": (".mov", "video/quicktime"),
    "avi": (".avi", "video/x-msvideo"),
    "matroska": (".mkv", "video/x-matroska"),
    "webm": (".webm", "video/webm"),
    "flv": (".flv", "video/x-flv"),
    "ogg": (".ogv", "video/ogg"),
    "mpeg": (".mpg", "video/mpeg"),
    "mpeg-ts": (".ts", "video/mp2t"),
    "asf/wmv": (".wmv", "video/x-ms-wmv"),
}


def container_type(head: bytes) -> tuple[str, str] | None:
    """(extension, media type) of the container the first bytes announce; None if not a video.
    QuickTime and WebM are told apart from MP4 and Matroska by the brand and the DocType."""
    container = sniff_container(head)
    if container is None:
        return None
    if container == "mp4/mov":
        container = "mov" if head[8:12] == b"qt  " or head[4:8] in (b"moov", b"mdat", b"free", b"wide") else "mp4"
    elif container == "matroska/webm":
        container = "webm" if b"webm" in head[:64] else "matroska"
    return CONTAINER_TYPES[container]


def sniff_file(path: Path) -> tuple[str, str] | None:
    with open(path, "rb") as f:
        return container_type(f.read(512))


def check_upload(path: Path) -> tuple[VideoMeta, str]:
    """The upload's metadata and the extension of its sniffed container (a stored key never
    takes the client's); NotAVideo unless it is a known container with a decodable frame."""
    with open(path, "rb") as f:
        head = f.read(512)
    container = sniff_container(head)
    if container is None:
        raise NotAVideo("the file is not a video (unknown container; expected MP4, MOV, AVI, MKV, WebM, ...)")
    try:
        meta = probe_video(path, decode_first_frame=True)
    except UndecodableVideo:
        raise NotAVideo(f"the {container} file holds no decodable video frame") from None
    except VideoReadError:
        raise NotAVideo(f"the {container} file cannot be opened as a video") from None
    return meta, (container_type(head) or (".bin", ""))[0]
