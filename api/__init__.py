"""The VideoAnalysis REST API (FastAPI)."""
