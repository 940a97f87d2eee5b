"""The VideoAnalysis operator (Kopf): settings, pure Job builders, the phase state machine,
reconcile glue, metrics and the handlers, run as `kopf run -m va_operator.handlers`."""
