# Test Kubernetes control plane: kube-apiserver, kube-controller-manager, kube-scheduler and etcd
# of each release in scripts/k8s/RELEASES, cached in /opt/videoanalysis-k8s/<release> (unpacked
# from ../shared/k8s-bin/<release> when present and verified, else built from the Go module
# proxy by scripts/k8s/build-control-plane.sh), and the add-ons of scripts/k8s/ADDONS (KWOK for
# the fake nodes, Kueue) built from the Go module proxy into /opt/videoanalysis-k8s/addons. The tests start and stop the cluster themselves
# (tests/support/cluster.py); `make test` runs on the newest release, `make test-k8s-matrix` runs every
# `kubernetes`-marked test on each.
.PHONY: k8s-prereqs test-k8s-matrix

k8s-prereqs:
	scripts/k8s-test-cluster.sh prereqs

test-prereqs:: k8s-prereqs

test-k8s-matrix: test-prereqs
	scripts/k8s/matrix.sh $(VPY) $(PYTEST_ARGS)
