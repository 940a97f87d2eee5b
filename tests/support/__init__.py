"""What the tests share: helpers and fixtures, one module per subject.

The fixtures here are a pytest plugin (tests/conftest.py lists the modules that hold them), so
every test folder sees the same session database, API server, control plane and operator. No
module imports a test module or a conftest.py: what two places need lives here, and a folder
keeps only the machinery of its own layer (the chaos harness, the e2e cluster drivers, the
viewer's pixel checks, the webhook receiver).

- paths, ports, waits: the repository root, free loopback ports, polling with a limit
- videos, https_videos: real encoded videos, and an HTTPS server of them with a test CA
- database, schema_history: the session's PostgreSQL database; databases at older schemas
- api_app, api_server, accounts, uploads: the API in this process or as `python -m api`,
  signing up, uploading and reading results
- job_harness, lost_acks, scripted_model: the inference job as a subprocess, and the faults
  and models tests give it
- cluster, nodes, pods, operator_process, resources, tasks, chart, helm, kueue: the test
  control plane, its fake nodes and Pods, the operator as a process, VideoAnalysis resources
  and task rows, the chart rendered by helm, Kueue beside the cluster
  (`python -m tests.support.kueue start|stop <cluster-dir>`)
"""
