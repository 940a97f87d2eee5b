"""What the API shares with the operator about the VideoAnalysis resource: its names, its
builder and the Kubernetes client. Free of Kopf: the operator's logic is `va_operator`."""
