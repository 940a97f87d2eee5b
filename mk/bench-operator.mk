# `make bench-operator`: the operator at 1,000 resources (bench/operator_scale.py): its own test
# cluster (auditing the operator's user) with 100 KWOK GPU nodes, a fresh database, rounds of
# N=100 and N=1000 resources side by side. BENCH_OPERATOR_ARGS e.g. "--sizes 50" while working,
# "--hold 70" to keep each resource Running that long (the timers' cost), "--profile" (py-spy on
# PATH or PY_SPY) for collapsed stacks, "--keep DIR" for the logs and the audit log, "--failover"
# for two replicas electing a leader through a Lease, the leader SIGKILLed half-way.
.PHONY: bench-operator

bench-operator: deps-test pg-start k8s-prereqs
	$(VPY) -m bench.operator_scale $(BENCH_OPERATOR_ARGS)
