#!/usr/bin/env bash
# The README's run command, for real: `make run` from this checkout in the background (a
# temporary VA_DATA_DIR, a free PORT), then sign up, upload a short face video, wait for
# SUCCEEDED with detections, and stop the service. `.ci/run` runs it before the tests; a
# person can run it too: scripts/smoke-run.sh [VIDEO]
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEO="${1:-tests/data/astronaut-pan.mp4}"
PORT="${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
DATA="$(mktemp -d)"
LOG="$DATA/make-run.log"

# Own session, so the whole group (make and the API under it) stops together.
VA_DATA_DIR="$DATA" setsid make run PORT="$PORT" >"$LOG" 2>&1 &
RUN_PID=$!
stop() {
  kill -TERM -- "-$RUN_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$RUN_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap stop EXIT

# The first `make run` on a fresh machine creates the venv: allow it time.
if ! python3 scripts/smoke_client.py "http://127.0.0.1:$PORT" "$VIDEO" --ready-timeout "${READY_TIMEOUT:-900}"; then
  echo "--- make run's output ---" >&2
  tail -n 60 "$LOG" >&2
  exit 1
fi
