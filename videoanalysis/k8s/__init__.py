"""The VideoAnalysis resource and its Job: names, settings, pure builders, the phase state
machine and the API-server glue the Kopf handlers (`operator/handlers.py`) call."""
