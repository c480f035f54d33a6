# Reciproca — the single entry point. `make run` and `make test` are all a
# newcomer needs; everything they depend on is started or installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN        := bin/reciproca
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS    := -X github.com/reciproca/reciproca/internal/app.Version=$(VERSION)
PORT       ?= 8080
DEV_PG_PORT ?= 55432
# the durable cluster (fsync and synchronous_commit on) of `make bench-ledger`
LEDGER_DURABLE_PG_PORT ?= 55434
# the cluster of `make bench-redemption`'s second run, on a CPU of its own
REDEMPTION_DB_CPU_PG_PORT ?= 55435
GOTEST_FLAGS ?= -count=1 -timeout 30m
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The databases `make run` uses, as two variables the binary reads:
# DATABASE_URL (serve, worker, seed: the restricted role reciproca_app) and
# MIGRATE_DATABASE_URL (migrate: the schema's owner). When DATABASE_URL is
# set, those (MIGRATE_DATABASE_URL defaults to it); otherwise a private
# cluster, migrated as its superuser, the app logging in as reciproca_app.
DEV_ENV = if [ -n "$$DATABASE_URL" ]; then export MIGRATE_DATABASE_URL="$${MIGRATE_DATABASE_URL:-$$DATABASE_URL}"; \
  else url=$$(scripts/pg.sh start dev $(DEV_PG_PORT)) || { echo "No PostgreSQL: install PostgreSQL 15, set DATABASE_URL, or run: docker compose up -d db" >&2; exit 1; }; \
  export MIGRATE_DATABASE_URL="$$url" DATABASE_URL="$${url/postgres@/reciproca_app@}"; fi

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/reciproca
	go build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/reciproca

.PHONY: run
run: build ## start PostgreSQL, stripe-mock and Mailpit, migrate, load demo data, serve on :$(PORT) with the worker
	@$(DEV_ENV); export PORT=$(PORT) APP_ENV=$${APP_ENV:-development}; \
	  eval "$$(scripts/services.sh)" && echo "Mail the app sends: $$MAILPIT_URL (Mailpit)" && \
	  $(BIN) migrate up && $(BIN) seed && exec $(BIN) serve

.PHONY: worker
worker: build ## run one more background worker on the development database (make run already runs one)
	@$(DEV_ENV); export APP_ENV=$${APP_ENV:-development}; \
	  eval "$$(scripts/services.sh)" && exec $(BIN) worker

.PHONY: test
test: ## run every test against real PostgreSQL, stripe-mock, Mailpit and chromium
	@eval "$$(scripts/test-env.sh)"; go test $(GOTEST_FLAGS) ./...

.PHONY: bench
bench: ## run the Go benchmarks (results go in docs/benchmarks.md)
	@eval "$$(scripts/test-env.sh)"; go test -run '^$$' -bench . -benchmem -count 1 ./...

.PHONY: bench-catalog
bench-catalog: ## catalogue search p50/p95 through the API over 100,000 offerings (docs/benchmarks.md)
	@eval "$$(scripts/test-env.sh)"; go test -run '^$$' -bench BenchmarkCatalogSearch -benchtime 1x -count 1 -timeout 20m -v ./internal/catalog/ | grep -E 'generated|warm-up|p50|Benchmark|ok|FAIL'

.PHONY: bench-allocation
bench-allocation: ## one plan allocated to 10,000 employees through the API, then ledger verify (docs/benchmarks.md)
	@eval "$$(scripts/test-env.sh)"; go test -run '^$$' -bench BenchmarkAllocation -benchtime 1x -count 1 -timeout 20m -v ./internal/plans/ | grep -E 'setup|allocation to|verify|Benchmark|ok|FAIL'

.PHONY: generate
generate: ## regenerate internal/httpapi from openapi/openapi.yaml
	go tool oapi-codegen -config openapi/oapi-codegen.yaml openapi/openapi.yaml

.PHONY: check-generated
check-generated: generate ## fail when generated code is stale
	@if [ -n "$$(git status --porcelain -- internal/httpapi)" ]; then git status --short -- internal/httpapi; git diff -- internal/httpapi | head -40; \
	  echo "generated code is stale: run make generate and commit" >&2; exit 1; fi

.PHONY: lint
lint: ## go vet + staticcheck
	go vet ./...
	go run $(STATICCHECK) ./...

.PHONY: fmt
fmt: ## gofmt the tree
	gofmt -w cmd internal migrations web

.PHONY: db-start
db-start: ## start the development PostgreSQL cluster
	@scripts/pg.sh start dev $(DEV_PG_PORT)

.PHONY: db-stop
db-stop: ## stop the development (and test) clusters, stripe-mock and Mailpit
	@scripts/pg.sh stop dev; scripts/pg.sh stop test
	@for s in stripe-mock mailpit; do \
	  if [ -f .data/$$s.pid ]; then kill $$(cat .data/$$s.pid) 2>/dev/null || true; rm -f .data/$$s.pid; fi; done

.PHONY: db-reset
db-reset: ## delete the development database (demo data comes back on make run)
	@scripts/pg.sh reset dev

.PHONY: migrate
migrate: build ## apply pending migrations to the development database
	@$(DEV_ENV); $(BIN) migrate up

.PHONY: seed
seed: build ## load the demo data into the development database
	@$(DEV_ENV); $(BIN) seed

.PHONY: ledger-verify
ledger-verify: build ## check every ledger invariant on the development database (exit 1 on a violation)
	@$(DEV_ENV); $(BIN) ledger verify

.PHONY: bench-redemption
bench-redemption: ## booking + validation through the API at 8/32/64 clients next to the ledger's own lifecycle: all on every CPU, then PostgreSQL on a CPU of its own (docs/benchmarks.md)
	@eval "$$(scripts/test-env.sh)"; go run ./cmd/redemption-bench $(REDEMPTION_BENCH_FLAGS)
	@go build -o bin/redemption-bench ./cmd/redemption-bench
	@echo "redemption-bench with PostgreSQL on CPU 0, the load generator, the app server and (c)'s clients on the others (as deployed: app servers on machines of their own), port $(REDEMPTION_DB_CPU_PG_PORT):" >&2
	@scripts/pg.sh stop bench-db-cpu; url=$$(taskset -c 0 scripts/pg.sh start bench-db-cpu $(REDEMPTION_DB_CPU_PG_PORT) fast) && \
	  taskset -c 1-$$(($$(nproc) - 1)) bin/redemption-bench -server "$$url" $(REDEMPTION_BENCH_FLAGS)

.PHONY: bench-ledger
bench-ledger: ## ledger throughput vs the raw PostgreSQL ceiling, on the fast test cluster, then on a durable one (results go in docs/benchmarks.md)
	@eval "$$(scripts/test-env.sh)"; go run ./cmd/ledger-bench $(LEDGER_BENCH_FLAGS)
	@echo "ledger-bench on a durable cluster (fsync=on, synchronous_commit=on) on port $(LEDGER_DURABLE_PG_PORT):" >&2
	@url=$$(scripts/pg.sh start bench-durable $(LEDGER_DURABLE_PG_PORT)); go run ./cmd/ledger-bench -server "$$url" $(LEDGER_BENCH_FLAGS)
