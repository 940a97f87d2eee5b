"""The analysis Jobs' egress to video URLs (templates/networkpolicy.yaml): HTTPS to every address
outside the cluster's own ranges (`networkPolicy.clusterCidrs`, required while the policy is on),
HTTP only where http:// video URLs are allowed, and the CIDRs of `videoUrls.allowedNetworks`, whose
host names stay with the application's URL guard (a NetworkPolicy holds addresses, not names).
The test cluster has no network plugin: the rules are rendered and checked here, and applied with a
server-side dry run in test_dry_run.py, never enforced."""

from __future__ import annotations

import json

import pytest

from tests.support.helm import VALUES, Manifest, container_env, find, helm_template, one, pod_spec, render

#: values.yaml's networkPolicy.clusterCidrs: the private, shared (CGNAT) and link-local IPv4 ranges.
DEFAULT_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"]
HTTPS = {"port": 443, "protocol": "TCP"}
HTTP = {"port": 80, "protocol": "TCP"}


def _egress(docs: list[Manifest]) -> list[Manifest]:
    return one(docs, "NetworkPolicy", "-job")["spec"]["egress"]


def _video_rule(docs: list[Manifest]) -> Manifest:
    """The one egress rule of the Jobs on port 443."""
    rules = [rule for rule in _egress(docs) if HTTPS in rule.get("ports", [])]
    assert len(rules) == 1, f"expected one rule on port 443, got {rules}"
    return rules[0]


def _blocks(rule: Manifest) -> dict[str, list[str]]:
    """cidr -> except of each ipBlock the rule reaches (and nothing but ipBlocks)."""
    assert all(set(peer) == {"ipBlock"} for peer in rule["to"]), rule["to"]
    return {peer["ipBlock"]["cidr"]: peer["ipBlock"].get("except", []) for peer in rule["to"]}


def _ranges(*cidrs: str) -> tuple[str, str]:
    return ("--set-json", f"networkPolicy.clusterCidrs={json.dumps(list(cidrs))}")


@pytest.mark.parametrize("values", sorted(VALUES))
def test_jobs_reach_https_outside_the_cluster_ranges_with_every_shipped_values_file(values: str) -> None:
    docs = render(values=VALUES[values])
    assert _video_rule(docs) == {"ports": [HTTPS], "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": DEFAULT_RANGES}}]}
    assert not [rule for rule in _egress(docs) if HTTP in rule.get("ports", [])]  # http:// is off by default


def test_cluster_ranges_come_from_the_value_and_ipv6_ones_open_ipv6() -> None:
    v4 = ["10.96.0.0/12", "10.244.0.0/16"]
    v6 = ["fd00:10:96::/112", "fd00:10:244::/56"]
    assert _blocks(_video_rule(render(*_ranges(*v4)))) == {"0.0.0.0/0": v4}
    dual = _ranges(v4[0], v6[0], v4[1], v6[1])
    assert _blocks(_video_rule(render(*dual))) == {"0.0.0.0/0": v4, "::/0": v6}
    assert _blocks(_video_rule(render(*_ranges(*v6)))) == {"::/0": v6}  # IPv6-only: no IPv4 egress


def test_allowed_cidrs_are_reached_and_host_names_are_left_to_the_url_guard() -> None:
    networks = "10.1.2.0/24, minio.storage.svc,192.168.5.7 ,FD12::5,10.1.2.0/24"
    docs = render("--set", "videoUrls.allowedNetworks=" + networks.replace(",", "\\,"))
    rule = _video_rule(docs)
    assert rule["ports"] == [HTTPS]
    assert _blocks(rule) == {
        "0.0.0.0/0": DEFAULT_RANGES,
        "10.1.2.0/24": [],
        "192.168.5.7/32": [],  # a bare address is its own network, as the URL guard reads it
        "fd12::5/128": [],
    }
    assert "minio" not in json.dumps(one(docs, "NetworkPolicy", "-job"))
    api = pod_spec(one(docs, "Deployment", "-api"))["containers"][0]
    assert container_env(api)["VA_VIDEO_URL_ALLOWED_NETWORKS"] == networks  # the guard gets every entry


def test_port_80_only_where_http_video_urls_are_allowed() -> None:
    assert _video_rule(render("--set", "videoUrls.allowHttp=false"))["ports"] == [HTTPS]
    docs = render("--set", "videoUrls.allowHttp=true", "--set", "videoUrls.allowedNetworks=10.1.2.0/24")
    rule = _video_rule(docs)
    assert rule["ports"] == [HTTPS, HTTP]
    assert _blocks(rule) == {"0.0.0.0/0": DEFAULT_RANGES, "10.1.2.0/24": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "networkPolicy.clusterCidrs=null"), "at '/networkPolicy': missing property 'clusterCidrs'"),
        (_ranges(), "at '/networkPolicy/clusterCidrs': minItems: got 0, want 1"),
    ],
    ids=["missing", "empty"],
)
def test_policy_without_the_cluster_ranges_fails_the_render(args: tuple[str, str], message: str) -> None:
    proc = helm_template(*args, check=False)
    assert proc.returncode != 0 and message in proc.stderr, proc.stderr
    assert not find(render(*args, "--set", "networkPolicy.enabled=false"), "NetworkPolicy")


@pytest.mark.parametrize("cidr", ["10.1.2.3", "0.0.0.0/0", "::/0", "cluster.local"])
def test_cluster_ranges_must_be_cidrs_narrower_than_everything(cidr: str) -> None:
    proc = helm_template(*_ranges(cidr), check=False)
    assert proc.returncode != 0 and "at '/networkPolicy/clusterCidrs/0'" in proc.stderr, proc.stderr
