# Security scanners, offline, in their own venv (.venv-security, from requirements-security.txt):
# checkov over what every stack deploys on every mesh backend, the Dockerfiles and the workflows;
# zizmor over the workflows. hadolint and actionlint run in their areas' lint targets.
# What is not enforced, and why: security/checkov-suppressions.yaml (one file, judged by
# tools/checkov_gate.py, which also fails on a stale entry) and .github/zizmor.yml.
SECURITY_VENV := .venv-security
SCAN_DIR := build/scan
CHECKOV_SUPPRESSIONS := security/checkov-suppressions.yaml
# No network: no platform key, no download of policies or metadata, no PyPI update check.
CHECKOV = env -u BC_API_KEY -u PRISMA_API_URL CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
          $(SECURITY_VENV)/bin/checkov --skip-download --skip-results-upload --soft-fail --quiet --compact -o json

INSTALL_TARGETS += install-security
LINT_TARGETS += lint-checkov lint-zizmor

.PHONY: install-security lint-security lint-checkov lint-zizmor

install-security: $(SECURITY_VENV)/.installed
$(SECURITY_VENV)/.installed: requirements-security.txt $(call venv-stale,$(SECURITY_VENV))
	$(call make-venv,$(SECURITY_VENV))
	$(SECURITY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SECURITY_VENV)/bin/python -m pip install --quiet -r requirements-security.txt
	touch $@

lint-security: lint-checkov lint-zizmor ## Both security scanners (checkov, zizmor), offline

# Helm releases (manifests/helm/) are release inputs, not Kubernetes objects: their charts are
# rendered in the cluster and cannot be fetched here.
lint-checkov: install-python install-security ## checkov on every stack × mesh backend's manifests, the Dockerfiles and workflows
	$(PY) -m tools.scan_manifests --out $(SCAN_DIR)/k8s
	@mkdir -p $(SCAN_DIR)/checkov
	$(CHECKOV) --framework kubernetes -d $(SCAN_DIR)/k8s --skip-path 'manifests/helm/' > $(SCAN_DIR)/checkov/kubernetes.json
	$(CHECKOV) --framework dockerfile $(addprefix -f ,$(wildcard apps/*/Dockerfile)) > $(SCAN_DIR)/checkov/dockerfile.json
	$(CHECKOV) --framework github_actions -d .github/workflows > $(SCAN_DIR)/checkov/github_actions.json
	$(PY) tools/checkov_gate.py --suppressions $(CHECKOV_SUPPRESSIONS) --expect kubernetes,dockerfile,github_actions \
	  $(SCAN_DIR)/checkov/kubernetes.json $(SCAN_DIR)/checkov/dockerfile.json $(SCAN_DIR)/checkov/github_actions.json

lint-zizmor: install-security ## zizmor on .github/workflows, offline (ignores with reasons: .github/zizmor.yml)
	$(SECURITY_VENV)/bin/zizmor --offline --no-progress --color never -q --config .github/zizmor.yml .github/workflows
