"""The analysis job: `python -m inference_job --task-id ID` (run by a Kubernetes Job or locally).

Importing this package does not import torch; only the Detectron2 model does, when created.
"""
