# Node.js apps (proddetail, frontend-node) and the package they share (node-common, linked by each
# app as file:../node-common): npm packages, Dockerfile lint, node --test.
NODE_APPS := apps/proddetail apps/frontend-node
NODE_PACKAGES := apps/node-common $(NODE_APPS)

# The Node the images ship (celestials/artifacts.py NODE), with its npm, from the npm registry:
# tools/node/package-lock.json pins each package by integrity, and npm installs only the binary
# package of this machine's os and cpu. Its bin directory comes first on PATH, so every `node` and
# `npm` below (and in the tests make starts) is that one; the machine's own Node runs only the
# first `npm ci` here, which fetches it. celestials/local/rehearsal.py (node_executable) names the
# same binary for the rehearsal and the tests started outside make.
NODE_RUNTIME := tools/node
NODE_BIN := $(CURDIR)/$(NODE_RUNTIME)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)

INSTALL_TARGETS += install-node
LINT_TARGETS += lint-node-dockerfiles
TEST_TARGETS += test-node

.PHONY: install-node install-node-runtime lint-node-dockerfiles test-node

install-node-runtime: $(NODE_RUNTIME)/node_modules/.package-lock.json ## The images' Node and npm, into tools/node (npm ci, integrity-pinned)

# No install scripts: the packages are a binary and npm itself, and need none.
$(NODE_RUNTIME)/node_modules/.package-lock.json: $(NODE_RUNTIME)/package.json $(NODE_RUNTIME)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed once, to fetch Node from the npm registry into $(NODE_RUNTIME): install any Node.js with npm (e.g. apt-get install npm)" >&2; exit 2; }
	cd $(NODE_RUNTIME) && npm ci --ignore-scripts --no-audit --no-fund
	@test -x $(NODE_BIN)/node || { echo "the npm registry has no Node build for $$(uname -s)/$$(uname -m) among $(NODE_RUNTIME)/package.json's optionalDependencies: install the Node version named there yourself and link it: ln -s /path/to/node $(NODE_BIN)/node" >&2; exit 2; }
	touch $@

install-node: $(addsuffix /node_modules/.package-lock.json,$(NODE_PACKAGES)) ## npm ci for the Node apps and node-common

# npm ci runs only when package.json or the lock file is newer than the installed tree, or when the
# Node it runs on changed.
# An app's npm ci only links ../node-common; node-common's own npm ci installs what it requires.
apps/%/node_modules/.package-lock.json: apps/%/package.json apps/%/package-lock.json $(NODE_RUNTIME)/node_modules/.package-lock.json
	cd apps/$* && npm ci --no-audit --no-fund
	touch $@

$(addsuffix /node_modules/.package-lock.json,$(NODE_APPS)): apps/node-common/node_modules/.package-lock.json

lint-node-dockerfiles: install-python
	hadolint apps/proddetail/Dockerfile apps/frontend-node/Dockerfile

test-node: install-node ## node --test for node-common and the Node apps
	@node --version
	@set -e; for pkg in $(NODE_PACKAGES); do echo "node --test $$pkg"; (cd $$pkg && node --test test/*.test.js); done
