# The project's commands. `make run` serves the site; `make test` runs every test layer.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Builds are reused across clones and CI runs.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/ciam-target
# wasm-opt for release builds, installed by .ci/tools.sh.
export PATH := $(HOME)/.cache/ciam-tools/node_modules/.bin:$(PATH)
export DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/ciam
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres
ADMIN_EMAIL ?= admin@example.com
SERVER_DEBUG := $(CARGO_TARGET_DIR)/debug/server
SERVER_RELEASE := $(CARGO_TARGET_DIR)/release/server

.PHONY: setup run build cluster test test-rust test-e2e test-scim test-cluster faults lint bench

## Installs the build tools that are missing and makes sure Postgres runs.
setup:
	@.ci/tools.sh
	@.ci/postgres.sh

## Builds the release site and serves it on http://localhost:3000 with a first admin.
run: setup build
	$(SERVER_RELEASE) migrate
	$(SERVER_RELEASE) admin bootstrap --email $(ADMIN_EMAIL)
	LEPTOS_SITE_ROOT=target/site exec $(SERVER_RELEASE) serve

build:
	cargo leptos build --release

## Three server processes over the same database behind HAProxy (round robin, no sticky
## sessions) on http://localhost:3000, the nodes on 3001-3003, with a first admin; Ctrl-C stops.
cluster: setup build
	@.ci/tools.sh cluster
	$(SERVER_RELEASE) migrate
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) LEPTOS_SITE_ROOT=$(CURDIR)/target/site \
		DATABASE_URL=$(DATABASE_URL) ADMIN_EMAIL=$(ADMIN_EMAIL) node cluster/run.mjs

## Unit, database and HTTP tests, then the browser journeys, the SCIM compliance checks and
## the three-node cluster.
test: test-rust test-e2e test-scim test-cluster

test-rust:
	@.ci/tools.sh
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	DATABASE_URL=$(TEST_DATABASE_URL) cargo test -p app -p server --features app/ssr

# The debug site the browser tests load gets a directory of its own: `make run` serves the
# release site from target/site, and must never find a debug bundle there.
test-e2e:
	@.ci/tools.sh test
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	LEPTOS_SITE_ROOT=target/site-test cargo leptos build
	cd end2end && CIAM_SERVER_BIN=$(SERVER_DEBUG) LEPTOS_SITE_ROOT=$(CURDIR)/target/site-test \
		DATABASE_URL=$(TEST_DATABASE_URL) npm test

## Three nodes behind HAProxy, each suite on a fresh database: sessions and lockouts shared,
## every outbox delivered exactly once, in-memory copies changed everywhere at once.
test-cluster:
	@.ci/tools.sh cluster
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	cargo build -p server
	cd end2end && CIAM_SERVER_BIN=$(SERVER_DEBUG) LEPTOS_SITE_ROOT=$(CURDIR)/target/site-test \
		DATABASE_URL=$(TEST_DATABASE_URL) node --test --test-concurrency=1 cluster/ faults/

## The faults alone (end2end/faults, also run by test-cluster): each under steady load, then a
## reconciler compares what the clients were told with what the database holds.
faults:
	@.ci/tools.sh cluster
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	cargo build -p server
	cd end2end && CIAM_SERVER_BIN=$(SERVER_DEBUG) LEPTOS_SITE_ROOT=$(CURDIR)/target/site-test \
		DATABASE_URL=$(TEST_DATABASE_URL) node --test --test-concurrency=1 faults/

lint:
	@.ci/tools.sh
	cargo fmt --all -- --check
	cargo clippy -p app -p server --features app/ssr --all-targets -- -D warnings
	cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings

## The SCIM endpoints of the real server against python-scim's scim2-tester
## (end2end/scim/check.py: a fresh database, a provisioning client, every check).
test-scim:
	@.ci/tools.sh scim
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	cargo build -p server
	CIAM_SERVER_BIN=$(SERVER_DEBUG) DATABASE_URL=$(TEST_DATABASE_URL) \
		$(HOME)/.cache/ciam-tools/scim-venv/bin/python end2end/scim/check.py

## Password hashing, token signing and the risk engine (criterion), then the OpenID provider's
## endpoints against npm oidc-provider, each pinned to one core (end2end/bench/compare.mjs; the
## table is also written to target/bench-oidc.md), then the password sign-in's latency with the
## risk engine on and off (end2end/bench/sign-in.mjs; target/bench-sign-in.md), then the console
## at a million customers: search, dashboard, import (end2end/bench/console.mjs;
## target/bench-console.md), then partner apps' policy decisions over HTTP
## (end2end/bench/decisions.mjs; target/bench-decisions.md), then the management API's reads
## per core (end2end/bench/management.mjs; target/bench-management.md), then the resident memory
## under sign-ins at 4 and 64 at once (end2end/bench/memory.mjs; target/bench-memory.md), then
## sign-ins at twice the sustainable rate (end2end/bench/overload.mjs; target/bench-overload.md),
## then the whole password sign-in against a raw argon2id verify loop on one core
## (end2end/bench/ceiling.mjs; target/bench-ceiling.md and .json), then sign-in, refresh and
## the console's search at 10k, 100k and 1M customers (end2end/bench/scale.mjs;
## target/bench-scale.md and .json), then the customer search with and without a streaming
## replica (end2end/bench/replica.mjs; target/bench-replica.md and .json).
bench:
	@.ci/tools.sh bench
	@DATABASE_URL=$(TEST_DATABASE_URL) .ci/postgres.sh
	cargo bench -p app --features ssr
	cargo build --release -p server
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-oidc.md node bench/compare.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-sign-in.md node bench/sign-in.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-console.md node bench/console.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-decisions.md node bench/decisions.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-management.md node bench/management.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-memory.md node bench/memory.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-overload.md node bench/overload.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-ceiling.md BENCH_JSON=$(CURDIR)/target/bench-ceiling.json \
		node bench/ceiling.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-scale.md BENCH_JSON=$(CURDIR)/target/bench-scale.json \
		node bench/scale.mjs
	cd end2end && CIAM_SERVER_BIN=$(SERVER_RELEASE) DATABASE_URL=$(TEST_DATABASE_URL) \
		BENCH_OUT=$(CURDIR)/target/bench-replica.md BENCH_JSON=$(CURDIR)/target/bench-replica.json \
		node bench/replica.mjs
