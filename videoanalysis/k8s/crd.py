"""The CRD's schema of the analysis parameters, generated from the one contract
(`videoanalysis.params.AnalysisParams`); a test keeps `crds/videoanalysis.yaml` and the
chart's copy equal to it, so a new parameter or a changed bound cannot drift."""

from __future__ import annotations

from typing import Any

from videoanalysis.params import AnalysisParams

#: JSON-schema keys the API server's structural schema does not take (or that say nothing).
_DROPPED = ("title",)


def _structural(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's optional) becomes X with `nullable: true`."""
    out = {k: v for k, v in schema.items() if k not in _DROPPED}
    variants = out.pop("anyOf", None)
    if variants:
        kinds = [v for v in variants if v.get("type") != "null"]
        if len(kinds) != 1:
            raise ValueError(f"cannot express {variants} in a structural schema")
        out = {**kinds[0], **out, "nullable": True}
    if out.get("default", 0) is None:
        del out["default"]  # "unset" is the absence of the field
    return out


def crd_properties() -> dict[str, dict[str, Any]]:
    """The CRD `spec.properties` of every analysis parameter, camelCase, in field order.
    `model` carries no default and no enum: the operator checks it against the catalogue
    and fills in VA_DEFAULT_MODEL, so the image decides what exists."""
    schema = AnalysisParams.model_json_schema(by_alias=True, mode="validation")
    return {name: _structural(prop) for name, prop in schema["properties"].items()}
