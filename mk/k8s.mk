# Test Kubernetes control plane (issue 4): kube-apiserver + kube-controller-manager 1.20.2 in
# /opt/videoanalysis-k8s/1.20.2 (unpacked from ../shared/k8s-bin when present and verified,
# else built from Debian's source package, ~13 min once) and Debian's etcd-server.
# The tests start and stop the cluster themselves (tests/k8s/conftest.py).
.PHONY: k8s-prereqs

K8S_BIN_DIR ?= /opt/videoanalysis-k8s/1.20.2

k8s-prereqs:
	VA_K8S_BIN_DIR=$(K8S_BIN_DIR) scripts/k8s-test-cluster.sh prereqs >/dev/null

test-prereqs:: k8s-prereqs
