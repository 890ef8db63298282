# keelson: `make up` brings up a cluster, `make test` runs every test. See README.md.
SHELL := /bin/bash
NPM ?= npm
NODES ?= 1

.PHONY: all deps build verify lint typecheck test test-unit up down status bench clean

all: build

# Debian packages the cluster and the tests need; installed only when missing.
deps:
	@hack/install-deps.sh

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

build: node_modules/.package-lock.json
	$(NPM) run --silent build

typecheck: node_modules/.package-lock.json
	$(NPM) run --silent typecheck

lint: node_modules/.package-lock.json
	$(NPM) run --silent lint

verify: typecheck lint

test: deps build
	$(NPM) run --silent test

KEELSON := node_modules/.bin/node dist/cmd/keelson/main.js

up: deps build
	@$(KEELSON) up --nodes $(NODES)

down:
	@$(KEELSON) down $(if $(RESET),--reset)

status:
	@$(KEELSON) status

bench: deps build
	QUICK=$(QUICK) $(NPM) run --silent bench

clean:
	rm -rf dist
