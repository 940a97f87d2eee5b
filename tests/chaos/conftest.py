"""The job harness of tests/job, shared by the crash cases."""

from tests.job.conftest import harness  # noqa: F401  (a fixture)
from tests.k8s.conftest import kubelet, make_task, namespace  # noqa: F401  (fixtures; `operator` is the root's)
