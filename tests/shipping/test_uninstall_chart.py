"""The rendered pre-delete hook that ends the unfinished analyses before `helm uninstall` removes
the operator (what it does on a real API server: tests/operator/test_uninstall_hook.py)."""

from __future__ import annotations

from tests.support.helm import NAMESPACE, Manifest, find, helm_template, one, pod_spec, render

TEMPLATE = ("--show-only", "templates/uninstall-hook.yaml")
NAME = "va-videoanalysis-uninstall"


def hook_of(doc: Manifest) -> tuple[str, int]:
    annotations = doc["metadata"]["annotations"]
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    return annotations["helm.sh/hook"], int(annotations["helm.sh/hook-weight"])


def test_a_pre_delete_job_runs_the_module_under_its_own_narrow_account(renders: dict[str, list[Manifest]]) -> None:
    docs = renders["default"]
    job, role = one(docs, "Job", "-uninstall"), one(docs, "Role", "-uninstall")
    account, binding = one(docs, "ServiceAccount", "-uninstall"), one(docs, "RoleBinding", "-uninstall")
    assert hook_of(job) == ("pre-delete", 0)
    for doc in (account, role, binding):
        assert hook_of(doc) == ("pre-delete", -10)  # before the Job
    verbs = ["list", "delete", "patch"]
    assert role["rules"] == [{"apiGroups": ["videoanalysis.io"], "resources": ["videoanalyses"], "verbs": verbs}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    pod = pod_spec(job)
    assert pod["serviceAccountName"] == NAME
    [container] = pod["containers"]
    assert container["image"] == "videoanalysis-operator:0.1.0"
    assert container["command"] == [
        "python",
        "-m",
        "va_operator.uninstall",
        f"--namespace={NAMESPACE}",
        "--timeout-seconds=120",
    ]
    assert job["spec"]["activeDeadlineSeconds"] > 120  # the wait, and the Pod's start around it


def test_the_timeout_reaches_the_command_and_the_deadline() -> None:
    job = one(render(*TEMPLATE, "--set", "uninstall.timeoutSeconds=30"), "Job")
    assert "--timeout-seconds=30" in pod_spec(job)["containers"][0]["command"]
    assert 30 < job["spec"]["activeDeadlineSeconds"] <= 120


def test_turned_off_there_is_no_hook() -> None:
    docs = render("--set", "uninstall.cancelAnalyses=false")
    assert not [d for d in docs if d["metadata"]["name"] == NAME]


def test_an_admin_made_account_and_rules_are_used_as_named() -> None:
    docs = render(
        *TEMPLATE,
        "--set",
        "rbac.create=false",
        "--set",
        "serviceAccount.create=false",
        "--set",
        "serviceAccount.uninstall.name=cleanup",
    )
    assert not find(docs, "ServiceAccount") and not find(docs, "Role") and not find(docs, "RoleBinding")
    assert pod_spec(one(docs, "Job"))["serviceAccountName"] == "cleanup"


def test_the_schema_refuses_a_timeout_too_short_to_wait() -> None:
    proc = helm_template("--set", "uninstall.timeoutSeconds=5", check=False)
    assert proc.returncode != 0 and "/uninstall/timeoutSeconds" in proc.stderr
