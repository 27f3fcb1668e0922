# mTLS demo (colorapp): Dockerfile lint here; its Python tests (tests/mtls, apps/colorteller,
# apps/colorfront) run with everything else in `make test-python`.
MTLS_APPS := apps/colorteller apps/colorfront

LINT_TARGETS += lint-mtls-dockerfiles

.PHONY: lint-mtls-dockerfiles test-mtls

lint-mtls-dockerfiles: install-python
	hadolint $(addsuffix /Dockerfile,$(MTLS_APPS))

test-mtls: install ## Only the mTLS demo's tests: issuing, provider, Secrets, App Mesh objects, TLS and Envoy matrices, apps
	$(PY) -m pytest -q tests/mtls $(MTLS_APPS)
