"""The CRD as a chart template: crds.install and crds.keep as rendered (`helm upgrade` and
`helm uninstall` on the control plane: tests/shipping/test_crd_upgrade.py)."""

from __future__ import annotations

from tests.support.helm import VALUES, find, one, render
from videoanalysis.k8s import names


def test_every_values_file_installs_the_crd_and_keeps_it() -> None:
    for values in VALUES.values():
        crd = one(render(values=values), "CustomResourceDefinition")
        assert crd["metadata"]["name"] == names.CRD_NAME
        assert crd["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}


def test_crds_install_false_renders_no_crd_and_everything_else() -> None:
    docs = render("--set", "crds.install=false")
    assert not find(docs, "CustomResourceDefinition")
    assert docs == [d for d in render() if d["kind"] != "CustomResourceDefinition"]


def test_crds_keep_false_leaves_the_crd_to_the_release() -> None:
    crd = one(render("--set", "crds.keep=false"), "CustomResourceDefinition")
    assert "annotations" not in crd["metadata"]
    assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
