"""Dispatchers run a stored task: `local` (subprocess, embedded default) or `kubernetes`."""
