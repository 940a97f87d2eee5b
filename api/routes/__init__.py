"""Routers, one per resource: auth, me, tasks, health."""
