# Node.js apps (proddetail, frontend-node) and the package they share (node-common, linked by each
# app as file:../node-common): npm packages, Dockerfile lint, node --test.
NODE_APPS := apps/proddetail apps/frontend-node
NODE_PACKAGES := apps/node-common $(NODE_APPS)

INSTALL_TARGETS += install-node
LINT_TARGETS += lint-node-dockerfiles
TEST_TARGETS += test-node

.PHONY: install-node lint-node-dockerfiles test-node

install-node: $(addsuffix /node_modules/.package-lock.json,$(NODE_PACKAGES)) ## npm ci for the Node apps and node-common

# npm ci runs only when package.json or the lock file is newer than the installed tree.
# An app's npm ci only links ../node-common; node-common's own npm ci installs what it requires.
apps/%/node_modules/.package-lock.json: apps/%/package.json apps/%/package-lock.json
	cd apps/$* && npm ci --no-audit --no-fund
	touch $@

$(addsuffix /node_modules/.package-lock.json,$(NODE_APPS)): apps/node-common/node_modules/.package-lock.json

lint-node-dockerfiles: install-python
	hadolint apps/proddetail/Dockerfile apps/frontend-node/Dockerfile

test-node: install-node ## node --test for node-common and the Node apps
	@set -e; for pkg in $(NODE_PACKAGES); do echo "node --test $$pkg"; (cd $$pkg && node --test test/*.test.js); done
