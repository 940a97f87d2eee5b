"""The generated parts of the CRD: the schema of the analysis parameters, from the one contract
(`videoanalysis.params.AnalysisParams`), and the CEL rules that keep a resource's identity
fixed and its name the API's; a test keeps `crds/videoanalysis.yaml` and the CRD the chart renders
from it equal to them, so a new parameter, a changed bound or a renamed resource cannot drift."""

from __future__ import annotations

from typing import Any

from videoanalysis.k8s import names
from videoanalysis.params import AnalysisParams

#: JSON-schema keys the API server's structural schema does not take (or that say nothing).
_DROPPED = ("title",)


def _int_or_word(variants: list[dict[str, Any]]) -> dict[str, Any] | None:
    """`anyOf: [integer in [a, b], "word"]` (`shards`: a count or `auto`) as the API server
    takes it: int-or-string, the bounds and the word checked by a CEL rule."""
    kinds = sorted(variants, key=lambda v: str(v.get("type")))
    if [v.get("type") for v in kinds] != ["integer", "string"] or "const" not in kinds[1]:
        return None
    low, high, word = kinds[0]["minimum"], kinds[0]["maximum"], kinds[1]["const"]
    return {
        "x-kubernetes-int-or-string": True,
        "x-kubernetes-validations": [
            {
                "rule": f"type(self) == int ? (self >= {low} && self <= {high}) : self == '{word}'",
                "message": f"must be an integer from {low} to {high}, or {word}",
            }
        ],
    }


def _structural(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """`anyOf: [X, null]` (pydantic's optional) becomes X with `nullable: true`; an integer
    or one word becomes int-or-string (`_int_or_word`); a nested model's `$ref` is written out
    (the API server takes no references), without `additionalProperties: false` (unknown
    fields are pruned anyway), its properties and items made structural in turn."""
    defs = defs or {}
    if "$ref" in schema:
        schema = {**defs[schema["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    out = {k: v for k, v in schema.items() if k not in _DROPPED}
    variants = out.pop("anyOf", None)
    either = _int_or_word(variants) if variants else None
    if either:
        out = {**either, **out}
    elif variants:
        kinds = [v for v in variants if v.get("type") != "null"]
        if len(kinds) != 1:
            raise ValueError(f"cannot express {variants} in a structural schema")
        out = {**_structural(kinds[0], defs), **out, "nullable": True}
    if out.get("default", 0) is None:
        del out["default"]  # "unset" is the absence of the field
    if "properties" in out:
        out.pop("additionalProperties", None)
        out["properties"] = {k: _structural(v, defs) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _structural(out["items"], defs)
    return out


def crd_properties() -> dict[str, dict[str, Any]]:
    """The CRD `spec.properties` of every analysis parameter, camelCase, in field order.
    `model` carries no default and no enum: the operator checks it against the catalogue
    and fills in VA_DEFAULT_MODEL, so the image decides what exists."""
    schema = AnalysisParams.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    return {name: _structural(prop, defs) for name, prop in schema["properties"].items()}


#: The fields that say which task a resource is: set when it is created, never edited after
#: (the API server refuses it, see `crd_spec_validations`). Every other spec field is an
#: analysis or scheduling parameter, editable, and an edit after the start is only reported
#: (the `SpecChanged` condition).
IDENTITY_FIELDS = ("taskId", "owner", "videoUri")


def crd_spec_validations() -> list[dict[str, str]]:
    """The CEL rules on `spec`: each identity field keeps its presence and value on update.
    They sit on `spec`, not on the field, because a field's own transition rule is skipped
    when the old object lacks the field (so it could be added); `spec` itself is required."""
    return [
        {
            "rule": f"has(self.{f}) == has(oldSelf.{f}) && (!has(self.{f}) || self.{f} == oldSelf.{f})",
            "message": f"spec.{f} cannot be added, changed or removed after creation",
        }
        for f in IDENTITY_FIELDS
    ]


def crd_root_validations() -> list[dict[str, str]]:
    """The CEL rule on the whole object: a resource with `spec.taskId` has the name the API
    gives that task's resource (`names.resource_name`: the prefix, then the id in lower case),
    so a task has one resource and finding it by name cannot miss."""
    prefix = names.resource_name("")
    lowered = "self.spec.taskId.lowerAscii()"
    return [
        {
            "rule": f"!has(self.spec.taskId) || self.metadata.name == '{prefix}' + {lowered}",
            "fieldPath": ".spec.taskId",
            "message": f"metadata.name must be {prefix}<spec.taskId in lower case>, the name the API gives the task's resource",
            "messageExpression": (
                f"'metadata.name must be {prefix}' + {lowered} + ', the name the API gives the resource of task '"
                " + self.spec.taskId"
            ),
        }
    ]
