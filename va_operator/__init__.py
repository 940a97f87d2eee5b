"""The VideoAnalysis operator (Kopf), run as `python -m va_operator.launcher`.

From the top: `handlers` (thin Kopf handlers) call `lifecycle` (when a Job is made or made
again) and `reconcile` (moving a resource to an outcome, one move at a time per resource by
`locks`); those talk to the API server through `kube_io` and to the task row through `row_io`
and `taskrow`. `outcomes`, `phases` and `ownership` are pure: what Jobs, Pods and rows say, the
status patch of a move, and which resource a Job or Pod is for. Around them: settings
(`config`, `defaults`, `job_pod`), the Job manifest (`builders`), `metrics`, `retention`,
leader election (`leadership`), and the chart's hooks (`secret_bootstrap`, `uninstall`)."""
