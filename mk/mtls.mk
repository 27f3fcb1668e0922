# mTLS demo (colorapp): Dockerfile lint here; its Python tests (tests/mtls, apps/colorapp) run with
# everything else in `make test-python`.
MTLS_APP := apps/colorapp

LINT_TARGETS += lint-mtls-dockerfiles

.PHONY: lint-mtls-dockerfiles test-mtls

lint-mtls-dockerfiles: install-python
	hadolint $(MTLS_APP)/Dockerfile

test-mtls: install ## Only the mTLS demo's tests: issuing, provider, Secrets, App Mesh objects, TLS and Envoy matrices, apps
	$(PY) -m pytest -q tests/mtls $(MTLS_APP)
