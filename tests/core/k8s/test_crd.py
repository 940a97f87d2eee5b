"""The CRD (`videoanalysis.k8s.crd` generates its parameters and rules): the file kubectl users
apply and the chart's render carry exactly what is generated, and its defaults leave the Job's
fallbacks to the operator."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support.helm import helm_template, parse
from tests.support.paths import ROOT
from tests.support.resources import TASK_ID
from va_operator.builders import JOB_FALLBACKS
from videoanalysis.k8s import names
from videoanalysis.k8s.crd import IDENTITY_FIELDS, crd_properties, crd_root_validations, crd_spec_validations

CRD = ROOT / "crds" / "videoanalysis.yaml"


def chart_crd() -> dict[str, Any]:
    """The CRD as the chart renders it (its template is generated from crds/videoanalysis.yaml)."""
    [crd] = parse(helm_template("--show-only", "templates/crd-videoanalysis.yaml").stdout)
    return crd


#: The CRD as kubectl users apply it and as `helm install`/`helm upgrade` applies it.
CRD_COPIES = {"crds/videoanalysis.yaml": lambda: yaml.safe_load(CRD.read_text()), "chart": chart_crd}


def test_crd_validates_and_defaults_match_the_builder() -> None:
    crd = yaml.safe_load(CRD.read_text())
    kubernetes_validate.validate(crd, "1.37.0", strict=True)
    assert crd["metadata"]["name"] == names.CRD_NAME
    assert crd["spec"]["names"]["shortNames"] == [names.SHORT_NAME]
    version = crd["spec"]["versions"][0]
    props = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    # Left unset by the API server so the operator's VA_JOB_DEFAULTS can fill them in.
    assert not [k for k in JOB_FALLBACKS if "default" in props[k]]
    assert [c["name"] for c in version["additionalPrinterColumns"] if not c.get("priority")] == [
        "Phase",
        "Progress",
        "Detections",
        "Objects",
        "Model",
        "Age",
    ]
    assert "default" not in props["model"] and "enum" not in props["model"]


@pytest.mark.parametrize("copy", sorted(CRD_COPIES))
def test_crd_parameters_are_the_contracts(copy: str) -> None:
    """The CRD's analysis parameters are exactly what the one contract generates (bounds,
    defaults, descriptions), in the file and as the chart renders it, and `taskId` is optional."""
    spec = CRD_COPIES[copy]()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    generated = crd_properties()
    assert {k: spec["properties"][k] for k in generated} == generated
    assert spec["required"] == ["videoUri"]
    assert set(generated) == {
        "model",
        "scoreThreshold",
        "frameStride",
        "labels",
        "batchSize",
        "tracker",
        "shards",
        "zones",
        "lines",
    }


@pytest.mark.parametrize("copy", sorted(CRD_COPIES))
def test_crd_rules_are_the_generated_ones(copy: str) -> None:
    """The file and the chart's render carry exactly the generated CEL rules: the identity fields (spec fields, no
    parameter among them) fixed at creation, and the name the API gives a task's resource."""
    root = CRD_COPIES[copy]()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    spec = root["properties"]["spec"]
    assert root["x-kubernetes-validations"] == crd_root_validations()
    assert spec["x-kubernetes-validations"] == crd_spec_validations()
    assert set(IDENTITY_FIELDS) <= set(spec["properties"]) and not set(IDENTITY_FIELDS) & set(crd_properties())
    # What the root rule spells in CEL (`prefix + taskId.lowerAscii()`) is the API's name.
    assert names.resource_name(TASK_ID.upper()) == names.resource_name("") + TASK_ID
