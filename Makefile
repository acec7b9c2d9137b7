# Two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test bench bench-runtime docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	@echo '$$ loopwarden scan examples/notes_service'
	@$(VENV)/bin/loopwarden scan examples/notes_service; rc=$$?; \
	  echo "(exit code $$rc: 1 means findings, as expected for this buggy example)"; \
	  test $$rc -le 1

test: $(STAMP)
	$(PY) -m mypy
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/scan_bench.py

bench-runtime: $(STAMP)
	$(PY) benchmarks/runtime_bench.py

docs: $(STAMP)
	$(PY) -m loopwarden.catalog.docgen docs/rules.md

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
