"""Where a video can be cut into shards that each decode exactly as one run would.

`scan` reads the container's packets of the first video stream without decoding them (PyAV
demuxes in C) into a `FrameTable`: frame index = rank of the packet's presentation timestamp,
and whether a decoder may start at that frame and produce exactly the frames a run from the
start produces ("clean"): an IDR picture for H.264 and HEVC (read from the packet's NAL unit
types: a non-IDR I-frame of an open GOP may be followed by frames that refer to the frames before
it), a keyframe of the container for other codecs, and for every codec no frame decoded after it
shown before it (a leading picture). `plan` cuts the table at the clean frames nearest `i·F/K`
and gives each shard after the first a pre-roll start: the clean frame at or before its first
owned frame minus the tracker's pre-roll, so its tracker reaches the seam with the state a single
run would have (`inference_job.seams` links the tracks there).

The shards are decoded by the job's own reader (OpenCV, on the same libavcodec), which reaches a
frame by its number; a test checks that its frames after a seek equal those of a run from the
start on clips with B-frames, open GOPs and HEVC. Numbering by frame is exact only at a constant
frame rate, so a video whose timestamps are missing, repeated or unevenly spaced is planned as one
shard, with the reason recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FrameTable",
    "ShardPlan",
    "ShardRange",
    "TableError",
    "library",
    "plan",
    "preroll_frames",
    "scan",
    "table_of_packets",
]

#: Analysed frames a shard's tracker runs past its lost-track buffer before the seam, so the
#: tracks both shards saw there can be matched.
MATCH_WINDOW = 10


class TableError(ValueError):
    """The container cannot be planned frame-exactly; the message says why (shown to users)."""


def library() -> str:
    """Which library made the plan (recorded with it)."""
    import av

    return f"PyAV {av.__version__} (libavformat {'.'.join(map(str, av.library_versions['libavformat']))})"


@dataclass(frozen=True)
class FrameTable:
    """A video's frames in presentation order."""

    codec: str
    time_base: Fraction
    pts: np.ndarray  # int64, ascending: frame index -> presentation timestamp
    clean: np.ndarray  # bool: a decoder may start at this frame
    keyframes: int  # the container's keyframes, clean or not

    @property
    def frames(self) -> int:
        return len(self.pts)

    def seconds(self, frame: int) -> float:
        """Frame `frame`'s presentation time from the first frame's."""
        return float((int(self.pts[frame]) - int(self.pts[0])) * self.time_base)

    def clean_at_or_before(self, frame: int) -> int:
        """The last clean frame at or before `frame` (frame 0 is clean in a plannable table)."""
        candidates = np.flatnonzero(self.clean[: frame + 1])
        return int(candidates[-1])

    def constant_rate_error(self) -> str | None:
        """Why frame numbers cannot be turned into timestamps exactly, or None."""
        if self.frames < 2:
            return None
        steps = np.diff(self.pts)
        low, high = int(steps.min()), int(steps.max())
        if high - low > 1:  # one tick of rounding between frames is not a rate change
            ms = lambda ticks: float(ticks * self.time_base * 1000)  # noqa: E731
            return f"variable frame rate (frames last {ms(low):.1f} to {ms(high):.1f} ms)"
        return None


def scan(path: Path) -> FrameTable:
    """The frame table of `path`'s first video stream, from its packets alone."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise TableError("no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            nal_types = _nal_reader(codec, bytes(stream.codec_context.extradata or b""))
            pts: list[int | None] = []
            keyframe: list[bool] = []
            idr: list[bool] = []
            for packet in container.demux(stream):
                if not packet.size:  # the flush packet at the end
                    continue
                pts.append(packet.pts)
                keyframe.append(bool(packet.is_keyframe))
                idr.append(bool(packet.is_keyframe) and (nal_types is None or nal_types(bytes(packet))))
            time_base = stream.time_base
    except av.FFmpegError as exc:
        raise TableError(f"the container cannot be read ({exc.strerror or type(exc).__name__})") from None
    return table_of_packets(codec, time_base, pts, keyframe, idr)


def table_of_packets(
    codec: str, time_base: Fraction | None, pts: list[int | None], keyframe: list[bool], idr: list[bool]
) -> FrameTable:
    """The table of packets given in decode order: their timestamps, the container's keyframe
    flags and whether each holds an IDR picture (a keyframe, for codecs without IDR pictures)."""
    if not pts:
        raise TableError("the video has no frames")
    if any(p is None for p in pts):
        raise TableError("some frames carry no timestamp")
    if time_base is None:
        raise TableError("the stream has no time base")
    decode_order = np.array(pts, dtype=np.int64)
    order = np.argsort(decode_order, kind="stable")
    ranked = decode_order[order]
    if ranked.size > 1 and not np.all(np.diff(ranked) > 0):
        raise TableError("two frames share a timestamp")
    # A frame is clean if nothing decoded after it is shown before it (no leading pictures).
    later_min = np.minimum.accumulate(decode_order[::-1])[::-1]
    no_leading = np.append(decode_order[:-1] < later_min[1:], True)
    clean_in_decode_order = np.array(idr, dtype=bool) & no_leading
    clean = clean_in_decode_order[order]  # presentation rank r is packet order[r]
    return FrameTable(codec, Fraction(time_base), ranked, clean, int(sum(keyframe)))


def _nal_reader(codec: str, extradata: bytes) -> Callable[[bytes], bool] | None:
    """For H.264 and HEVC: a function telling whether a packet holds an IDR picture; None for
    other codecs (their container keyframes are taken as they are)."""
    if codec not in ("h264", "hevc"):
        return None
    hevc = codec == "hevc"
    length_size = 4
    if extradata[:1] == b"\x01":  # avcC / hvcC: NAL units prefixed by their length
        length_size = ((extradata[21] if hevc else extradata[4]) & 3) + 1
    idr_types = {19, 20} if hevc else {5}

    def is_idr(data: bytes) -> bool:
        return any(((b >> 1) & 0x3F if hevc else b & 0x1F) in idr_types for b in _nal_headers(data, length_size))

    return is_idr


def _nal_headers(data: bytes, length_size: int) -> list[int]:
    """The first byte of each NAL unit of a packet, Annex B (start codes) or length-prefixed."""
    if data.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        headers, at = [], data.find(b"\x00\x00\x01")
        while at != -1 and at + 3 < len(data):
            headers.append(data[at + 3])
            at = data.find(b"\x00\x00\x01", at + 3)
        return headers
    headers, at = [], 0
    while at + length_size < len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        at += length_size
        if size <= 0 or at + size > len(data):
            break
        headers.append(data[at])
        at += size
    return headers


def preroll_frames(fps: float, stride: int, lost_track_s: float) -> int:
    """Video frames a shard's tracker runs before its first owned frame: the tracker's
    lost-track buffer plus `MATCH_WINDOW`, counted in analysed frames."""
    analysed = math.ceil(lost_track_s * max(fps, 1.0) / max(stride, 1)) + MATCH_WINDOW
    return analysed * max(stride, 1)


@dataclass(frozen=True)
class ShardRange:
    """Shard `index` owns frames [start, end); its decoder starts at `preroll_start` (a clean
    frame, `start` itself for the first shard), and frames before `start` only feed its tracker."""

    index: int
    start: int
    end: int
    preroll_start: int
    start_seconds: float  # the first owned frame's presentation time (checked by the shard)

    def as_json(self) -> dict[str, float | int]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "prerollStart": self.preroll_start,
            "startSeconds": self.start_seconds,
        }


@dataclass(frozen=True)
class ShardPlan:
    frames: int
    shards: list[ShardRange]
    library: str
    asked: int
    reason: str | None = None  # why there are fewer shards than asked
    cuts: list[int] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "asked": self.asked,
            "library": self.library,
            "reason": self.reason,
            "shards": [s.as_json() for s in self.shards],
        }


def plan(table: FrameTable, shards: int, *, preroll: int, expected_frames: int | None = None) -> ShardPlan:
    """Cut `table` into at most `shards` ranges at clean frames nearest `i·F/K`; `preroll` video
    frames of pre-roll before each seam (`preroll_frames`). `expected_frames` is the count the
    reader will hold the video to: a table that disagrees is planned as one shard."""
    reason = _one_shard_reason(table, expected_frames) if shards > 1 else None
    cuts: list[int] = []
    if reason is None and shards > 1:
        clean = np.flatnonzero(table.clean)
        for i in range(1, shards):
            target = i * table.frames / shards
            nearest = int(clean[np.argmin(np.abs(clean - target) + (clean > target) * 1e-9)])
            # A shard is at least a pre-roll long, so the next one's pre-roll lies in it alone.
            if nearest - (cuts[-1] if cuts else 0) >= max(preroll, 1) and nearest < table.frames:
                cuts.append(nearest)
        if len(cuts) + 1 < shards:
            n = len(cuts) + 1
            reason = (
                f"only {n} shard{'s' * (n != 1)}: no more of the video's {len(clean)} clean keyframes"
                f" lie at least a pre-roll ({preroll} frames) apart"
            )
    # One shard for want of a frame-exact table: its range is the reader's count, not the table's.
    frames = expected_frames if reason is not None and expected_frames is not None else table.frames
    bounds = [0, *cuts, frames]
    ranges = [
        ShardRange(
            index=i,
            start=start,
            end=end,
            preroll_start=max(table.clean_at_or_before(max(0, start - preroll)), bounds[i - 1]) if i else 0,
            start_seconds=round(table.seconds(start), 6),
        )
        for i, (start, end) in enumerate(pairwise(bounds))
    ]
    return ShardPlan(frames, ranges, library(), shards, reason, cuts)


def _one_shard_reason(table: FrameTable, expected_frames: int | None) -> str | None:
    if not table.clean[0]:
        return "the first frame is not a clean keyframe"
    if expected_frames is not None and expected_frames != table.frames:
        return f"the container announces {expected_frames} frames but holds {table.frames}"
    return table.constant_rate_error()
