"""The job harness of tests/job, shared by the crash cases."""

from tests.job.conftest import harness  # noqa: F401  (a fixture)
