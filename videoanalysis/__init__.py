"""VideoAnalysis shared core: settings, Tortoise models, storage, resource names and builders.

Nothing in this package imports torch: the API and the operator stay light.
"""
