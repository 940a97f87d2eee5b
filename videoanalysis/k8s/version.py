"""The oldest Kubernetes the product runs on, in one place: the operator refuses an older API
server at start, the chart's `kubeVersion` says the same, and the tests run on it.

1.34 is the oldest release the project tests. What the product relies on is GA there (and in
1.33, untested): a Job's `podFailurePolicy` (the operator no longer emulates FailJob), CEL
validation rules in the CRD, Indexed Jobs with `backoffLimitPerIndex`, `successPolicy` and
`spec.suspend` (Kueue), and strict server-side field validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: (major, minor) of the oldest supported release.
MINIMUM = (1, 34)
MINIMUM_TEXT = f"{MINIMUM[0]}.{MINIMUM[1]}"


class UnsupportedServer(RuntimeError):
    """The API server is older than `MINIMUM`."""


def release_of(info: Mapping[str, Any]) -> tuple[int, int]:
    """(major, minor) of a `/version` answer; managed clusters write minors such as `34+` and
    versions such as `v1.34.2-eks-abc`, so only the leading digits count."""
    major, minor = re.match(r"\d+", str(info.get("major") or "")), re.match(r"\d+", str(info.get("minor") or ""))
    if major and minor:
        return int(major.group()), int(minor.group())
    found = re.match(r"v?(\d+)\.(\d+)", str(info.get("gitVersion") or ""))
    if not found:
        raise UnsupportedServer(f"cannot read the Kubernetes version from {dict(info)}")
    return int(found.group(1)), int(found.group(2))


def check(info: Mapping[str, Any]) -> str:
    """The server's version text when it is supported; raises `UnsupportedServer` naming the
    version found and the one needed otherwise."""
    found = str(info.get("gitVersion") or f"{info.get('major')}.{info.get('minor')}")
    if release_of(info) < MINIMUM:
        raise UnsupportedServer(
            f"the Kubernetes API server is {found}; VideoAnalysis needs {MINIMUM_TEXT} or newer "
            "(Job pod failure policies, CEL validation rules, Indexed Jobs)"
        )
    return found
