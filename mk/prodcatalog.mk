# prodcatalog (apps/prodcatalog, Flask + gunicorn): Dockerfile lint, a local run, the benchmark.
# Its Python tests run with everyone's in `make test-python`.
LINT_TARGETS += lint-prodcatalog
BENCH_TARGETS += bench-prodcatalog

.PHONY: lint-prodcatalog run-prodcatalog bench-prodcatalog

lint-prodcatalog: install-python ## hadolint the prodcatalog Dockerfile
	hadolint apps/prodcatalog/Dockerfile

run-prodcatalog: install-python ## Run prodcatalog under gunicorn on :5000 (env as in apps/prodcatalog/README.md)
	cd apps/prodcatalog && $(PY) -m gunicorn -c gunicorn.conf.py "prodcatalog:create_app()"

bench-prodcatalog: install-python ## GET /products/ throughput and p50/p99: gunicorn vs Flask's dev server
	$(PY) apps/prodcatalog/bench/bench_servers.py
