# prodcatalog (apps/prodcatalog, Flask + gunicorn): Dockerfile lint, a local run, the benchmark.
# Its Python tests run with everyone's in `make test-python`.
LINT_TARGETS += lint-prodcatalog
BENCH_TARGETS += bench-prodcatalog

.PHONY: lint-prodcatalog run-prodcatalog bench-prodcatalog

# A local run is for this machine: loopback only unless asked (make run-prodcatalog PRODCATALOG_HOST=0.0.0.0).
PRODCATALOG_HOST ?= 127.0.0.1

lint-prodcatalog: install-python ## hadolint the prodcatalog Dockerfile
	hadolint apps/prodcatalog/Dockerfile

# Spans are exported only when a collector is named (OTEL_EXPORTER_OTLP_ENDPOINT or
# OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or an explicit OTEL_TRACES_EXPORTER): without one, every batch
# would fail against localhost:4318 and log its failure.
run-prodcatalog: install-python ## Run prodcatalog under gunicorn on 127.0.0.1:5000 (env as in apps/prodcatalog/README.md)
	cd apps/prodcatalog && \
	if [ -z "$$OTEL_EXPORTER_OTLP_ENDPOINT$$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" ]; then \
	  export OTEL_TRACES_EXPORTER="$${OTEL_TRACES_EXPORTER:-none}"; fi && \
	HOST=$(PRODCATALOG_HOST) exec $(PY) -m gunicorn -c gunicorn.conf.py "prodcatalog:create_app()"

bench-prodcatalog: install-python ## GET /products/ throughput and p50/p99: gunicorn vs Flask's dev server
	$(PY) apps/prodcatalog/bench/bench_servers.py
