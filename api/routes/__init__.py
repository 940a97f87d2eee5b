"""Routers, one per resource: auth, me, the tasks (uploads, results, tasks), tracks, health; the
viewer's routes live in its own room, `api.viewer`."""
