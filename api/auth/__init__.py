"""Who is calling: password hashing, tokens, sign-in sessions and their limits, and the replica's
caches of verified tokens and user rows. Plain Python under the routes: nothing here imports
FastAPI or a route (`api.deps` and the routes turn its answers into HTTP)."""
