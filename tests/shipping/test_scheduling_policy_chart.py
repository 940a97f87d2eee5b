"""The rendered ValidatingAdmissionPolicy that keeps a VideoAnalysis's scheduling fields to the
admins (what it does on a real API server: tests/shipping/test_scheduling_policy.py)."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.helm import NAMESPACE, Manifest, find, helm_template, one, render

TEMPLATE = ("--show-only", "templates/scheduling-policy.yaml")
POLICY, BINDING = "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"


def policy(*sets: str) -> Manifest:
    return one(render(*TEMPLATE, *(a for s in sets for a in ("--set", s))), POLICY)


def admin_lists(doc: Manifest) -> tuple[list[str], list[str]]:
    """The user names and group names the policy's match condition exempts, read back from
    the CEL list literals (JSON's syntax) the chart writes."""
    [condition] = doc["spec"]["matchConditions"]
    users, groups = re.findall(r" in (\[.*?\])(?= \|\||\)\))", condition["expression"])
    return json.loads(users), json.loads(groups)


def rule_for(doc: Manifest, field: str) -> Manifest:
    return next(v for v in doc["spec"]["validations"] if f"'spec.{field}" in v["messageExpression"])


def test_disabled_renders_neither_policy_nor_binding() -> None:
    docs = render("--set", "schedulingPolicy.enabled=false")
    assert not find(docs, POLICY) and not find(docs, BINDING)


def test_the_policy_is_bound_to_the_release_namespace_and_denies(renders: dict[str, list[Manifest]]) -> None:
    for name, docs in renders.items():
        doc, binding = one(docs, POLICY), one(docs, BINDING)
        # Cluster-scoped: the release and its namespace in the name keep two installs apart.
        assert doc["metadata"]["name"] == binding["metadata"]["name"] == f"va-videoanalysis-scheduling.{NAMESPACE}"
        assert binding["spec"]["policyName"] == doc["metadata"]["name"], name
        assert binding["spec"]["validationActions"] == ["Deny"], name
        selector = {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}
        assert binding["spec"]["matchResources"]["namespaceSelector"] == selector, name
        [rule] = doc["spec"]["matchConstraints"]["resourceRules"]
        # The main resource only: not videoanalyses/status, the operator's.
        assert rule["resources"] == ["videoanalyses"] and rule["apiGroups"] == ["videoanalysis.io"], name
        assert rule["operations"] == ["CREATE", "UPDATE"], name
        assert doc["spec"]["failurePolicy"] == "Fail", name


def test_every_scheduling_field_has_a_rule_that_keeps_an_unchanged_value() -> None:
    doc = policy()
    for field in ("tolerations", "nodeSelector", "resources", "gpus"):
        rule = rule_for(doc, field)
        assert f"!has(object.spec.{field})" in rule["expression"]
        assert f"oldObject.spec.{field} == object.spec.{field}" in rule["expression"]
        assert rule["reason"] == "Forbidden" and "request.userInfo.username" in rule["messageExpression"]


def test_by_default_no_one_is_an_admin_and_one_gpu_is_the_most() -> None:
    doc = policy()
    assert admin_lists(doc) == ([], [])
    assert "nobody (schedulingPolicy.admins names no one)" in doc["spec"]["variables"][0]["expression"]
    assert "object.spec.gpus <= 1 " in rule_for(doc, "gpus")["expression"]


def test_the_admins_and_max_gpus_reach_the_cel() -> None:
    doc = policy(
        'schedulingPolicy.admins.users={gpu-admin,o"brien}',
        "schedulingPolicy.admins.groups={gpu-admins}",
        "schedulingPolicy.admins.serviceAccounts[0].name=argocd-application-controller",
        "schedulingPolicy.admins.serviceAccounts[0].namespace=argocd",
        "schedulingPolicy.admins.serviceAccounts[1].name=ci",
        "schedulingPolicy.maxGpus=4",
    )
    users, groups = admin_lists(doc)
    assert users == [
        "gpu-admin",
        'o"brien',  # escaped into the CEL string literal, not breaking out of it
        "system:serviceaccount:argocd:argocd-application-controller",
        f"system:serviceaccount:{NAMESPACE}:ci",  # no namespace: the release's
    ]
    assert groups == ["gpu-admins"]
    who = doc["spec"]["variables"][0]["expression"]
    assert "users gpu-admin" in who and "members of gpu-admins" in who and f"{NAMESPACE}/ci" in who
    assert "object.spec.gpus <= 4 " in rule_for(doc, "gpus")["expression"]


@pytest.mark.parametrize(
    ("setting", "path"),
    [
        ("schedulingPolicy.maxGpus=9", "/schedulingPolicy/maxGpus"),
        ("schedulingPolicy.admins.typo=1", "/schedulingPolicy/admins"),
        ("schedulingPolicy.admins.serviceAccounts[0].namespace=ns", "/schedulingPolicy/admins/serviceAccounts/0"),
        ("schedulingPolicy.admins.users[0]=", "/schedulingPolicy/admins/users/0"),
    ],
)
def test_the_schema_refuses_bad_policy_values(setting: str, path: str) -> None:
    proc = helm_template("--set", setting, check=False)
    assert proc.returncode != 0, setting
    assert path in proc.stderr, proc.stderr
