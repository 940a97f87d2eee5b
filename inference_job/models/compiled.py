"""The compiled detector path: which parts of a Detectron2 model `torch.compile` takes, with
which options, and which input shapes have been warmed.

Detectron2's ROI heads break a `torch.compile` graph dozens of times (data-dependent box
counts), so only the backbone and the RPN's convolutional head are compiled; proposal
selection, the ROI heads and post-processing stay eager. Shapes are static: one graph per
(batch, height, width), compiled and warmed on first use, so the compile never lands in the
middle of a timed run, and short last batches are padded to the warmed batch size instead of
compiling a new graph at the end of every video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CompileMode = Literal["off", "inductor", "cudagraphs"]
COMPILE_MODES: tuple[str, ...] = ("off", "inductor", "cudagraphs")


def compile_options(mode: str, device: str) -> dict[str, Any] | None:
    """`torch.compile` keyword arguments for `mode` on `device`, or None to stay eager.

    inductor   : Inductor/Triton kernels, static shapes;
    cudagraphs : the same, replayed as CUDA graphs ("reduce-overhead"): CUDA only.
    """
    if mode not in COMPILE_MODES:
        raise ValueError(f"compile mode must be one of {', '.join(COMPILE_MODES)}, got {mode!r}")
    if mode == "off":
        return None
    if mode == "cudagraphs" and device != "cuda":
        raise ValueError(f"compile mode cudagraphs needs device cuda (the model runs on {device})")
    return {"dynamic": False, "fullgraph": False, "mode": "reduce-overhead" if mode == "cudagraphs" else "default"}


@dataclass
class WarmUps:
    """Input shapes (batch, height, width) already compiled and warmed, and the largest batch
    warmed per frame size (a shorter batch is padded up to it)."""

    shapes: set[tuple[int, int, int]] = field(default_factory=set)
    batch_for: dict[tuple[int, int], int] = field(default_factory=dict)

    def padded_batch(self, batch: int, height: int, width: int) -> int:
        """The batch size to run: a warmed larger one for this frame size, else `batch`."""
        return max(batch, self.batch_for.get((height, width), 0))

    def needs(self, batch: int, height: int, width: int) -> bool:
        return (batch, height, width) not in self.shapes

    def done(self, batch: int, height: int, width: int) -> None:
        self.shapes.add((batch, height, width))
        self.batch_for[height, width] = max(batch, self.batch_for.get((height, width), 0))
