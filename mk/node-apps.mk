# Node.js apps (proddetail, frontend-node): npm packages, Dockerfile lint, node --test.
NODE_APPS := apps/proddetail apps/frontend-node

INSTALL_TARGETS += install-node
LINT_TARGETS += lint-node-dockerfiles
TEST_TARGETS += test-node

.PHONY: install-node lint-node-dockerfiles test-node

install-node: $(addsuffix /node_modules/.package-lock.json,$(NODE_APPS)) ## npm ci for the Node apps

# npm ci runs only when package.json or the lock file is newer than the installed tree.
apps/%/node_modules/.package-lock.json: apps/%/package.json apps/%/package-lock.json
	cd apps/$* && npm ci --no-audit --no-fund
	touch $@

lint-node-dockerfiles: install-python
	hadolint apps/proddetail/Dockerfile apps/frontend-node/Dockerfile

test-node: install-node ## node --test for the Node apps
	@set -e; for app in $(NODE_APPS); do echo "node --test $$app"; (cd $$app && node --test test/*.test.js); done
