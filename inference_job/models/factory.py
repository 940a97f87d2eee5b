"""Models by name: the core's catalogue (`videoanalysis.catalogue`) maps names to import paths,
so listing the names (as the API and the operator do) never imports torch or Detectron2.
Models registered at run time (tests, benchmarks, plug-ins) sit beside the catalogue here."""

from __future__ import annotations

import importlib
from typing import Any

from inference_job.models.base import AbstractImageAnalysisMLModel
from videoanalysis.catalogue import CATALOGUE, UnknownModelError

# name -> "module:Class" or the class itself, for models registered at run time
_REGISTERED: dict[str, str | type[AbstractImageAnalysisMLModel]] = {}

__all__ = ["UnknownModelError", "create_model", "known_models", "model_class", "register_model"]


def register_model(name: str, target: str | type[AbstractImageAnalysisMLModel]) -> None:
    """Add a model in this process: `target` is the class or its "module:Class" import path."""
    _REGISTERED[name] = target


def known_models() -> list[str]:
    return sorted({*CATALOGUE, *_REGISTERED})


def model_class(name: str) -> type[AbstractImageAnalysisMLModel]:
    target = _REGISTERED.get(name) or (CATALOGUE[name].target if name in CATALOGUE else None)
    if target is None:
        raise UnknownModelError(name, known_models())
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
    return target


def create_model(name: str, **options: Any) -> AbstractImageAnalysisMLModel:
    """Build and load the model called `name` with model-specific options."""
    return model_class(name)(**options)
