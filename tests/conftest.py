"""The shared fixtures live in tests/support, each beside the helpers it uses; this list makes
them a pytest plugin, so every test folder sees the same one (one database, one control plane,
one operator per session)."""

pytest_plugins = [
    "tests.support.database",  # pg_url, db, empty_databases
    "tests.support.api_app",  # api_settings, open_api_client, api_client
    "tests.support.accounts",  # signup_user
    "tests.support.api_server",  # api_server
    "tests.support.job_harness",  # harness, pan
    "tests.support.cluster",  # k8s_cluster, kube_api, namespace, unwatched_namespace; the `kubernetes` marker
    "tests.support.operator_process",  # operator
    "tests.support.pods",  # kwok
    "tests.support.tasks",  # make_task
]
