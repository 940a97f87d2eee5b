"""Image-analysis models behind one interface, created by name from a registry."""

from inference_job.models.base import AbstractImageAnalysisMLModel, Detection
from inference_job.models.factory import (
    UnknownModelError,
    create_model,
    known_models,
    register_model,
)

__all__ = [
    "AbstractImageAnalysisMLModel",
    "Detection",
    "UnknownModelError",
    "create_model",
    "known_models",
    "register_model",
]
