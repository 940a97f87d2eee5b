"""The tracker stage: gives each kept detection the id of the object it follows across frames.

Runs Roboflow's `trackers` (ByteTrack, OC-SORT, SORT: motion-only, class-agnostic) on the
detections that passed the score and label filters. Frames are fed with their timestamps, so
with a frame stride the Kalman filters step over the skipped time. The tracker's whole state
(its tracklets, Kalman filters and id counter) is a JSON value (`state()`), committed with
each batch, so a resumed run continues the same ids (`TrackerStage(..., state=...)`).

The trackers give a track its id on its second detection: the first, which spawned the
tracklet, comes out untracked. The stage tags each new tracklet with the detection that spawned
it (frame, position in that frame's objects; part of the saved state), and when the tracklet is
confirmed reports that detection in `confirmed`, so the writer gives it the track's id too.
"""

from __future__ import annotations

import enum
import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["TRACKER_CLASSES", "Confirmed", "TrackerStage", "decode", "encode", "thumbnail"]

#: tracker name -> class in the `trackers` package.
TRACKER_CLASSES = {"bytetrack": "ByteTrackTracker", "ocsort": "OCSORTTracker", "sort": "SORTTracker"}
#: How long a lost track waits to be matched again (an occlusion), in seconds of video.
LOST_TRACK_S = 2.0
#: Only classes from these packages are rebuilt from a saved state (it comes from a database).
_TRUSTED = ("trackers.", "numpy")
#: The attribute a new tracklet carries until it is confirmed: the detection that spawned it.
_SPAWNED_BY = "va_spawned_by"
#: A fresh tracklet's box is its spawning detection's, up to the Kalman filter's round trip.
_SAME_BOX_PX = 0.5

#: A track's first detection, confirmed later: {"frame", "index", "timestamp", "track_id", "object"}.
Confirmed = dict[str, Any]


class TrackerStage:
    """One tracker over one task's analysed frames, in order."""

    def __init__(self, name: str, fps: float, state: Any = None) -> None:
        if name not in TRACKER_CLASSES:
            raise ValueError(f"unknown tracker {name!r} (known: {', '.join(TRACKER_CLASSES)})")
        self.name = name
        self.best: dict[int, float] = {}  # best score cropped so far per track, in this run
        self.confirmed: list[Confirmed] = []  # first detections the last update gave an id
        if state is not None and state.get("name") == name:
            self.tracker = decode(state["tracker"])
        else:
            cls = getattr(importlib.import_module("trackers"), TRACKER_CLASSES[name])
            # A track's id from its second detection; a lost track is kept LOST_TRACK_S.
            buffer = round(LOST_TRACK_S * 30)  # the package counts the buffer in 30 fps frames
            self.tracker = cls(frame_rate=max(fps, 1.0), minimum_consecutive_frames=1, lost_track_buffer=buffer)

    def update(self, timestamp_s: float, objects: Sequence[dict], frame_index: int | None = None) -> list[dict]:
        """`objects` (the stored JSON of one frame) with `track_id` set: an int, or None for a
        detection the tracker did not take (ByteTrack's unmatched low-score boxes) or one that
        starts a track (given its id later, through `confirmed`, when `frame_index` is given)."""
        import supervision as sv

        before = {id(t) for t in self.tracker.tracks}
        boxes = np.array([o["box"] for o in objects], dtype=np.float64).reshape(-1, 4)
        detections = sv.Detections(
            xyxy=boxes,
            confidence=np.array([o["score"] for o in objects], dtype=np.float64),
            data={"index": np.arange(len(objects))},
        )
        tracked = self.tracker.update(detections, timestamp=float(timestamp_s))
        ids: dict[int, int] = {}
        if tracked.tracker_id is not None and len(tracked):  # an empty result carries no data
            ids = {int(i): int(t) for i, t in zip(tracked.data["index"], tracked.tracker_id, strict=True)}
        out = []
        for i, obj in enumerate(objects):
            tid = ids.get(i, -1)
            out.append({**obj, "track_id": tid + 1 if tid >= 0 else None})  # ids from 1, as MOT files count
        self.confirmed = []
        if frame_index is not None:
            self.confirmed = self._confirm()
            self._tag_spawned(before, frame_index, timestamp_s, out)
        return out

    def _confirm(self) -> list[Confirmed]:
        """The spawning detections of the tracklets this update confirmed (tags removed)."""
        found = []
        for t in self.tracker.tracks:
            spawned = getattr(t, _SPAWNED_BY, None)
            if spawned is not None and t.tracker_id >= 0:
                found.append({**spawned, "track_id": int(t.tracker_id) + 1})
                delattr(t, _SPAWNED_BY)
        return sorted(found, key=lambda c: (c["frame"], c["index"]))

    def _tag_spawned(self, before: set[int], frame: int, timestamp_s: float, out: list[dict]) -> None:
        """Tag each tracklet this update spawned with the untracked detection it was made from."""
        free = [i for i, o in enumerate(out) if o["track_id"] is None]
        for t in self.tracker.tracks:
            if id(t) in before or t.tracker_id >= 0 or not free:
                continue
            state = np.asarray(t.get_state_bbox(), dtype=np.float64).reshape(4)
            gaps = [float(np.abs(state - np.asarray(out[i]["box"], dtype=np.float64)).max()) for i in free]
            best = int(np.argmin(gaps))
            if gaps[best] <= _SAME_BOX_PX:
                i = free.pop(best)
                obj = {k: v for k, v in out[i].items() if k != "track_id"}
                setattr(t, _SPAWNED_BY, {"frame": frame, "index": i, "timestamp": float(timestamp_s), "object": obj})

    def crops(self, image: Any, objects: Sequence[dict]) -> dict[int, bytes]:
        """Thumbnails of the tracks whose best detection so far (in this run) is in this frame."""
        out: dict[int, bytes] = {}
        for obj in objects:
            tid = obj.get("track_id")
            if tid is not None and obj["score"] > self.best.get(tid, -1.0):
                jpeg = thumbnail(image, obj["box"])
                if jpeg is not None:
                    self.best[tid] = obj["score"]
                    out[tid] = jpeg
        return out

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "tracker": encode(self.tracker)}


def encode(value: Any) -> Any:
    """A JSON value for `value`: plain data as is, arrays, enums, classes and objects tagged."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, np.ndarray):
        return {"__nd__": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode(v) for v in value], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, enum.Enum):
        return {"__enum__": _name(type(value)), "value": encode(value.value)}
    if isinstance(value, type):
        return {"__cls__": _name(value)}
    if hasattr(value, "__dict__"):
        return {"__obj__": _name(type(value)), "attrs": {k: encode(v) for k, v in vars(value).items()}}
    raise TypeError(f"cannot save tracker state of type {type(value).__name__}")


def decode(value: Any) -> Any:
    """The inverse of `encode`; refuses classes from outside the tracker's packages."""
    if not isinstance(value, dict):
        return value
    if "__nd__" in value:
        return np.array(value["__nd__"], dtype=value["dtype"]).reshape(value["shape"])
    if "__seq__" in value:
        items = [decode(v) for v in value["__seq__"]]
        return tuple(items) if value["tuple"] else items
    if "__map__" in value:
        return {decode(k): decode(v) for k, v in value["__map__"]}
    if "__enum__" in value:
        return _resolve(value["__enum__"])(decode(value["value"]))
    if "__cls__" in value:
        return _resolve(value["__cls__"])
    if "__obj__" in value:
        cls = _resolve(value["__obj__"])
        obj = cls.__new__(cls)
        obj.__dict__.update({k: decode(v) for k, v in value["attrs"].items()})
        return obj
    raise ValueError("not a saved tracker state")


def _name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(name: str) -> Any:
    module, _, qualname = name.partition(":")
    if not module.startswith(_TRUSTED):
        raise ValueError(f"saved tracker state names {module!r}, outside the tracker's packages")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


THUMB_MAX_PX = 128
THUMB_MARGIN = 0.15


def thumbnail(image: Any, box: Sequence[float]) -> bytes | None:
    """A small JPEG of `image` (BGR, H×W×3) cropped around `box` with a margin, longest side at
    most THUMB_MAX_PX; None for frames that are not a host array (device tensors)."""
    import cv2

    if not isinstance(image, np.ndarray) or image.ndim != 3:
        return None
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * THUMB_MARGIN, (y2 - y1) * THUMB_MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(w, int(np.ceil(x2 + mx))), min(h, int(np.ceil(y2 + my)))
    if right <= left or bottom <= top:
        return None
    crop = image[top:bottom, left:right]
    scale = THUMB_MAX_PX / max(crop.shape[:2])
    if scale < 1:
        crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale))))
    ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(crop), [cv2.IMWRITE_JPEG_QUALITY, 80])
    return jpeg.tobytes() if ok else None
