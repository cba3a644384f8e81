# Lantern: `make run` opens the app on the demo district, `make test` runs the whole suite headless.
# Both create .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench sysdeps sysdeps-test screenshot demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

sysdeps:
	bash packaging/sysdeps.sh runtime

sysdeps-test:
	bash packaging/sysdeps.sh test

run: sysdeps $(STAMP)
	$(PY) main.py --demo

test: sysdeps-test $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: sysdeps $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) bench/startup.py
	$(PY) bench/osm_import.py
	$(PY) bench/site_selection.py
	$(PY) bench/hex_aggregation.py
	$(PY) bench/import_polygon.py
	$(PY) bench/check_big_layer.py

screenshot: sysdeps $(STAMP)
	mkdir -p screenshots
	$(PY) main.py --demo --screenshot screenshots/demo.png

demo: $(STAMP)
	$(PY) main.py demo demo.gpkg --overwrite

clean:
	rm -rf $(VENV) .pytest_cache screenshots
