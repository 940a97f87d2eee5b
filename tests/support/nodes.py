"""Fake nodes of the test cluster, kept alive by KWOK (scripts/k8s/kwok.yaml manages nodes
labelled `type=kwok`): GPU nodes shaped like a cloud GPU pool (`nvidia.com/gpu` capacity, the
GPU product label, a `NoSchedule` taint) and plain CPU nodes. The scheduler places Pods on
them exactly as on real ones."""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

GPU = "nvidia.com/gpu"
GPU_LABEL = "nvidia.com/gpu.present"
#: Labels KWOK selects nodes by, and the one the tests' default nodes carry.
KWOK_LABELS = {"type": "kwok", "videoanalysis.test/node": "fake"}
#: The nodes every test session starts with: two GPU nodes of two GPUs each and one CPU node.
DEFAULT_NODES = (("kwok-gpu-0", 2), ("kwok-gpu-1", 2), ("kwok-cpu-0", 0))


def node_manifest(name: str, gpus: int = 0, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A fake node; with `gpus`, the GPU pool's capacity, label and NoSchedule taint."""
    capacity = {"cpu": "32", "memory": "128Gi", "pods": "110"}
    node_labels = {**KWOK_LABELS, "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", **(labels or {})}
    spec: dict[str, Any] = {}
    if gpus:
        capacity[GPU] = str(gpus)
        node_labels[GPU_LABEL] = "true"
        spec["taints"] = [{"key": GPU, "value": "present", "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
        "spec": spec,
        "status": {"capacity": capacity, "allocatable": dict(capacity)},
    }


def add_node(api: client.ApiClient, name: str, gpus: int = 0, ready_within: float = 30, **labels: str) -> None:
    """Create a fake node (idempotent) and wait until KWOK reports it Ready."""
    core = client.CoreV1Api(api)
    try:
        core.create_node(node_manifest(name, gpus, labels))
    except ApiException as exc:
        if exc.status != 409:
            raise
    deadline = time.monotonic() + ready_within
    while not is_ready(core.read_node(name)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"node {name} not Ready after {ready_within}s (is KWOK running?)")
        time.sleep(0.2)


def remove_node(api: client.ApiClient, name: str) -> None:
    try:
        client.CoreV1Api(api).delete_node(name)
    except ApiException as exc:
        if exc.status != 404:
            raise


def is_ready(node: client.V1Node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


def add_default_nodes(api: client.ApiClient) -> None:
    for name, gpus in DEFAULT_NODES:
        add_node(api, name, gpus)
