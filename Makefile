# nublado — build, test and run. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
CACHE     ?= $(CURDIR)/.cache
BIN       := $(CACHE)/bin
CUE       := $(GO) run cuelang.org/go/cmd/cue@v0.17.1
# Tests and tools find the control-plane binaries here.
export NUBLADO_CLUSTER_BIN := $(BIN)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: build
build: ## build the nublado binary into .cache/bin
	$(GO) build -o $(BIN)/nublado ./cli/nublado

.PHONY: test
test: cluster-bins check cue-vet ## everything CI needs that lives in the repository
	$(GO) test -race -count=1 ./...

.PHONY: conformance
# The packages with conformance tests; every such test's name contains
# "Conformance", so `make conformance` runs only those (make test runs the rest).
CONFORMANCE_PKGS = $(shell grep -rl --include='*_test.go' '^//go:build conformance' . | grep -v '^./.cache/' | xargs -n1 dirname | sort -u)

conformance: cluster-bins ## tests against ../shared/conformance (build tag conformance)
	$(GO) test -race -count=1 -tags conformance -run Conformance $(CONFORMANCE_PKGS)

.PHONY: bench
bench: cluster-bins ## benchmarks (numbers go into the issue notes)
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...
	NUBLADO_ENGINE_RENDERS=50000 $(GO) test -run '^TestMemoryFlat$$' -count=1 -v -timeout 30m ./engine/

# Fuzz targets as package:Target; `make fuzz` runs each for FUZZTIME.
FUZZTIME    ?= 30s
# Minimising each new interesting input of the slow targets (the config
# loader) would otherwise eat most of FUZZTIME.
FUZZMINTIME ?= 5s
FUZZ_TARGETS := \
  ./server:FuzzParseCreateBody \
  ./schema:FuzzParseConfig \
  ./images:FuzzParseTag ./images:FuzzCompareTags ./images:FuzzParseReference \
  ./schema/units:FuzzParseDuration ./schema/units:FuzzParseMemory \
  ./schema/units:FuzzParseCPU ./schema/units:FuzzParseQuantity

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME (default 30s) one after another
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) $$pkg || exit 1; \
	done

.PHONY: soak
soak: cluster-bins ## long load and fault tests (build tag soak; numbers go into the issue notes)
	$(GO) test -count=1 -tags soak -run Soak -timeout 60m -v ./...

.PHONY: check
check: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^deploy/local/') ); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags conformance ./...
	$(GO) vet -tags soak ./...

.PHONY: cue-vet
cue-vet: ## validate the example configs with the pinned cue CLI
	@for f in deploy/examples/*.yaml; do \
	  [ -e "$$f" ] || continue; \
	  echo "cue vet $$f"; \
	  $(CUE) vet -c=false -d '#Config' ./schema "$$f"; \
	done

.PHONY: gen
gen: ## regenerate cue.mod/gen from k8s.io/api (committed)
	./hack/gen-cue.sh

.PHONY: cluster-bins
cluster-bins: ## build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, kubectl into .cache/bin
	./deploy/local/build.sh $(BIN)

.PHONY: cluster
cluster: cluster-bins ## start the local control plane in the background (.cache/cluster)
	$(GO) run ./internal/testcluster/cmd/localcluster up --state $(CACHE)/cluster --bin $(BIN)

.PHONY: cluster-down
cluster-down: ## stop the local control plane and remove its state
	$(GO) run ./internal/testcluster/cmd/localcluster down --state $(CACHE)/cluster

.PHONY: run
run: cluster-bins build ## run nublado on the local control plane (see README)
	./hack/run.sh

.PHONY: clean
clean: ## remove build output (keeps the cluster binaries)
	rm -f $(BIN)/nublado
