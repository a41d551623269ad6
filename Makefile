# aiflow's build. Every target runs on a fresh machine with Go and the
# PostgreSQL server binaries, but lint, which also needs cfn-lint (1.51 or
# later), and compare, which also needs npm; nothing else needs to be
# installed or running.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
CFN_LINT ?= cfn-lint

# Lambda functions: SAM logical id, then the folder under functions/.
FUNCTIONS := ApiFunction:api AiStepFunction:aistep McpStepFunction:mcpstep McpServerFunction:mcpserver RecorderFunction:recorder MigrateFunction:migrate ServiceStepFunction:servicestep HealthCheckFunction:healthcheck

LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w -buildid="
LAMBDA_ENV := GOOS=linux GOARCH=arm64 CGO_ENABLED=0

.PHONY: all dev test test-short cover lint vuln build bench compare faults examples clean tidy $(foreach f,$(FUNCTIONS),build-$(word 1,$(subst :, ,$(f))))

all: lint build test

# DEV_BIN is the binary make dev builds and runs; TestMakeDevCtrlC runs the
# recipe with one of its own (and GO=true).
DEV_BIN ?= ./build/aiflow

## dev: run aiflow on this machine (PostgreSQL under .aiflow/, migrations, HTTP API on 127.0.0.1:8080)
dev:
	@echo "building aiflow into $(DEV_BIN) (the first build fetches and compiles the dependencies: a minute or two)"
	@$(GO) build -o $(DEV_BIN) ./cmd/aiflow
	@$(DEV_BIN) dev

## test: every test, the PostgreSQL ones included (a throwaway cluster is started when DATABASE_URL is unset);
##       COVERPROFILE=file also writes their statement coverage profile there (make cover sets it)
test:
	$(GO) test -count=1 $(if $(COVERPROFILE),-coverprofile=$(COVERPROFILE)) ./...

# Core packages: each must keep COVER_FLOOR percent of its statements covered
# by its own tests (go test -coverprofile without -coverpkg). One folder a
# line; a folder that does not exist yet is reported as missing and skipped.
# A subpackage is its own entry: internal/engine/queue is core, the test
# helper packages (enginetest, stepstest, mcpclienttest) are not.
COVER_FLOOR := 80
COVER_CORE := \
	internal/asl \
	internal/workflow \
	internal/workflow/expr \
	internal/engine \
	internal/engine/queue \
	internal/eventstore \
	internal/control \
	internal/steps \
	internal/mcpclient \
	internal/supportdesk \
	internal/httpapi \
	internal/jsonvalid \
	internal/jsoncanon \
	internal/batchcall
COVER_OUT := build/cover.out

## cover: make test writing build/cover.out, then each package's statement coverage and the total;
##        fails when a core package (COVER_CORE) is under COVER_FLOOR percent
cover:
	@mkdir -p $(dir $(COVER_OUT))
	$(MAKE) --no-print-directory test COVERPROFILE=$(COVER_OUT)
	$(GO) run ./internal/coverfloor -profile $(COVER_OUT) -floor $(COVER_FLOOR) $(COVER_CORE)

## lint: gofmt, go vet, staticcheck, the architecture's package rules and package comments (internal/archtest),
##       govulncheck (make vuln), and cfn-lint on template.yaml (no error and no warning)
lint: vuln
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './build/*'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) test -count=1 ./internal/archtest
	@command -v $(CFN_LINT) >/dev/null || { echo "$(CFN_LINT) is not installed; make lint checks template.yaml with it: pip install cfn-lint (1.51 or later)"; exit 1; }
	$(CFN_LINT) template.yaml

# The Go vulnerability database govulncheck reads: an offline copy (the
# layout of the online one) in a folder next to the checkout, because the
# build machines cannot reach the online database. VULNDB=folder overrides it.
VULNDB ?= ../shared/vulndb

## vuln: govulncheck (pinned in go.mod) on every package against the offline database in VULNDB
##       (default ../shared/vulndb); fails when a vulnerable function is called, skips when VULNDB is missing
vuln:
	@if [ ! -f "$(VULNDB)/index/db.json" ]; then \
		echo "vuln: skipped: no Go vulnerability database at $(VULNDB) (set VULNDB to a folder holding index/db.json)"; \
	else \
		echo "$(GO) tool govulncheck -db file://$(abspath $(VULNDB)) ./..."; \
		$(GO) tool govulncheck -db "file://$(abspath $(VULNDB))" ./...; \
	fi

## build: every Lambda as build/<LogicalId>/bootstrap (linux/arm64)
build:
	@for f in $(FUNCTIONS); do \
		id=$${f%%:*}; dir=$${f##*:}; \
		echo "build/$$id/bootstrap <- ./functions/$$dir"; \
		$(LAMBDA_ENV) $(GO) build $(LAMBDA_GOFLAGS) -o build/$$id/bootstrap ./functions/$$dir; \
	done
	@for d in functions/*/; do \
		name=$$(basename $$d); \
		case " $(FUNCTIONS) " in *":$$name "*) ;; *) echo "functions/$$name is not in FUNCTIONS in the Makefile"; exit 1;; esac; \
	done

# SAM (BuildMethod: makefile) runs build-<LogicalId> with ARTIFACTS_DIR set.
define sam_target
build-$(word 1,$(subst :, ,$(1))):
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_GOFLAGS) -o build/$(word 1,$(subst :, ,$(1)))/bootstrap ./functions/$(word 2,$(subst :, ,$(1)))
	@test -n "$$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it"; exit 1; }
	cp build/$(word 1,$(subst :, ,$(1)))/bootstrap "$$(ARTIFACTS_DIR)/bootstrap"
endef
$(foreach f,$(FUNCTIONS),$(eval $(call sam_target,$(f))))

## examples: recompile examples/ into statemachines/ and rewrite the expected errors of examples/invalid/
examples:
	$(GO) test ./internal/workflow -run 'TestExamples|TestInvalid' -count=1 -update

## bench: every benchmark, with allocations
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# compare installs its Node.js side here (never committed) and runs it
# from there; COMPARE_FLAGS passes flags to the Go side, such as
# COMPARE_FLAGS="-executions 2000 -store memory".
COMPARE_DIR := build/compare
COMPARE_FLAGS ?=

## compare: the peers' workload (three echo Task states in process, 10,000 executions, 1,000 in flight) on
##          aws-local-stepfunctions 3.0 with Node.js 22, both installed from npm into build/compare, then on
##          aiflow's engine in memory and in PostgreSQL, one after the other; prints one table
compare:
	@mkdir -p $(COMPARE_DIR)
	cp bench/compare/package.json bench/compare/package-lock.json bench/compare/peers.mjs $(COMPARE_DIR)/
	cd $(COMPARE_DIR) && { npm ci --no-audit --no-fund || { echo "compare: npm ci failed; installing without install scripts, so without Node.js 22's binary: the node on PATH runs it if it is 20 or later"; npm ci --ignore-scripts --no-audit --no-fund; }; }
	$(GO) run ./internal/enginebench/compare -dir $(COMPARE_DIR) $(COMPARE_FLAGS)

## faults: the fault suite for FAULT_DURATION (make test runs a 20-second round)
FAULT_DURATION ?= 5m
faults:
	AIFLOW_FAULT_DURATION=$(FAULT_DURATION) $(GO) test -count=1 -run TestFaultSuite -timeout 60m -v ./internal/faultsuite

tidy:
	$(GO) mod tidy

clean:
	rm -rf build .aws-sam
