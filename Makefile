# Sluice — `make help` lists the targets. Setup caches live in $(SLUICE_CACHE).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export SLUICE_CACHE ?= $(HOME)/.cache/sluice
export PATH := $(SLUICE_CACHE)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
VITEST := node_modules/.bin/vitest
# The default broker, and the 4.x line checked by the cluster smoke test (KIP-896 protocol floor).
export KAFKA_VERSION ?= 3.9.1
export KAFKA4_VERSION ?= 4.1.1

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install everything: Node.js 24 (npm), npm packages, ClickHouse + kcat (apt), Kafka jars (Maven), kube-apiserver/etcd/kubectl and helm (Go)
	@bash scripts/setup/node.sh
	@bash scripts/setup/toolchains.sh
	@bash scripts/setup/npm.sh
	@bash scripts/setup/apt.sh
	@bash scripts/setup/kafka.sh $(KAFKA_VERSION)
	@bash scripts/setup/kafka.sh $(KAFKA4_VERSION)
	@bash scripts/setup/k8s.sh
	@bash scripts/setup/helm.sh

test: setup ## Run setup, then typecheck and the whole suite (unit + integration on the real testbed)
	@$(MAKE) --no-print-directory typecheck
	@mkdir -p .testbed
	@status=0; $(VITEST) run --reporter=default --reporter=json --outputFile=.testbed/vitest.json || status=$$?; \
	  node scripts/test-summary.mjs .testbed/vitest.json || status=1; exit $$status

test-unit: ## Unit tests only (no servers)
	@$(VITEST) run --project unit

typecheck: ## TypeScript strict check
	@node_modules/.bin/tsc --noEmit

testbed-up: setup ## Start Kafka, ClickHouse and a Kubernetes API server; then `source .testbed/env`
	@node_modules/.bin/tsx testbed/cli.ts up

testbed-down: ## Stop the servers started by testbed-up
	@node_modules/.bin/tsx testbed/cli.ts down

testbed-status: ## Show the testbed's servers
	@node_modules/.bin/tsx testbed/cli.ts status

image: ## Build the Sluice image (Dockerfile) and the pause image without a registry, into SLUICE_CACHE/images; loads them into containerd when SLUICE_CONTAINERD_ADDRESS is set
	@out=$$(bash scripts/image/build.sh && bash scripts/image/pause.sh) && echo "$$out" && \
	  if [[ -n "$${SLUICE_CONTAINERD_ADDRESS:-}" ]]; then \
	    bash scripts/image/load.sh "$$SLUICE_CONTAINERD_ADDRESS" $$(sed -n 's/^SLUICE_[A-Z_]*ARCHIVE=//p' <<<"$$out"); fi

crds: ## Regenerate crds/ and docs/reference.md from the zod schemas in api/
	@node_modules/.bin/tsx api/generate-crds.ts
	@node_modules/.bin/tsx api/generate-reference.ts

reference: ## Regenerate docs/reference.md (the field reference, from api/), docs/metrics.md (every metric) and docs/capacity.md (from bench/results/latest.json)
	@node_modules/.bin/tsx api/generate-reference.ts
	@node_modules/.bin/tsx scripts/metrics/generate-metrics-doc.ts
	@node_modules/.bin/tsx bench/capacity/generate.ts

demo: setup ## Run the clickstream example end to end: testbed, collector -> Kafka -> sink -> ClickHouse, then query it
	@node_modules/.bin/tsx scripts/demo.ts

bench-autoscale: setup ## The lag formulas side by side (simulated), then the closed loop on the testbed's node; writes bench/results/autoscale-*
	@node_modules/.bin/tsx bench/autoscale/compare.ts | tee bench/results/autoscale-formulas.txt
	@SLUICE_RESULTS_DIR=$(CURDIR)/bench/results $(VITEST) run --project integration test/e2e/autoscale-loop.test.ts

bench: setup ## Benchmark the data plane against same-run baselines (reuses a running testbed); writes bench/results/latest.json and docs/capacity.md
	@node_modules/.bin/tsx bench/run.ts
	@node_modules/.bin/tsx bench/capacity/generate.ts

bench-ab: setup ## One stage unconstrained vs as deployed, alternating drains of one topic (BENCH_AB_STAGE=sink|tumbling|sliding, BENCH_AB_ROUNDS=3)
	@node_modules/.bin/tsx bench/ab.ts

bench-profile: setup ## make bench with every bench process under node --cpu-prof; top frames in bench/results/profiles/summary.md (figures to bench/results/profiled.json, not latest.json)
	@rm -rf bench/results/profiles && mkdir -p bench/results/profiles
	@BENCH_PROFILE_DIR=$(CURDIR)/bench/results/profiles BENCH_RESULTS=bench/results/profiled.json node_modules/.bin/tsx bench/run.ts
	@node_modules/.bin/tsx bench/profile/summarize.ts bench/results/profiles

.PHONY: help image crds reference setup test test-unit typecheck testbed-up testbed-down testbed-status demo bench bench-ab bench-autoscale bench-profile
