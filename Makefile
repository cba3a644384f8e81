# Lantern: `make run` opens the app on the demo district, `make test` runs the whole suite headless.
# Both create .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYBABEL := $(VENV)/bin/pybabel
LOCALES := data/locale
POT := $(LOCALES)/lantern.pot
PO_FILES := $(wildcard $(LOCALES)/*/LC_MESSAGES/lantern.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test bench sysdeps sysdeps-test screenshot demo clean messages catalogues glossary-check
.PHONY: bundle bundle-test

# install, then compile the translation catalogues so a fresh checkout has them
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	$(PYBABEL) -q compile -d $(LOCALES) -D lantern
	touch $(STAMP)

# extract every _(), ngettext() and N_() message into the template, then update each language's .po
messages: $(STAMP)
	$(PYBABEL) -q extract -F babel.cfg --no-default-keywords -k _ -k ngettext:1,2 -k N_ \
		--project=Lantern --copyright-holder="Lantern contributors" --sort-by-file --width=100 \
		-o $(POT) layers audit mapping gui main.py
	$(PYBABEL) -q update -i $(POT) -d $(LOCALES) -D lantern --ignore-obsolete --no-fuzzy-matching --width=100

# authoring check: every glossary quote is on the line of the Latvian guidelines it cites
SEED ?= ../shared/seed/guidelines-lv.txt
glossary-check: $(STAMP)
	PYTHONPATH=. $(PY) tests/audit/test_glossary.py $(SEED)

# compile the .po catalogues to .mo (the program also compiles a missing or stale one at first use)
catalogues: $(MO_FILES)

$(LOCALES)/%/LC_MESSAGES/lantern.mo: $(LOCALES)/%/LC_MESSAGES/lantern.po | $(STAMP)
	$(PYBABEL) -q compile -l $* -i $< -o $@

sysdeps:
	bash packaging/sysdeps.sh runtime

sysdeps-test:
	bash packaging/sysdeps.sh test

run: sysdeps $(STAMP) catalogues
	$(PY) main.py --demo

test: sysdeps-test $(STAMP) catalogues
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: sysdeps-test $(STAMP)  # the test tools: bench/shared_workspace.py starts a PostgreSQL/PostGIS of its own
	QT_QPA_PLATFORM=offscreen $(PY) bench/startup.py
	$(PY) bench/osm_import.py
	$(PY) bench/osm_city.py
	$(PY) bench/site_selection.py
	$(PY) bench/hex_aggregation.py
	$(PY) bench/import_polygon.py
	$(PY) bench/import_cases.py
	$(PY) bench/check_big_layer.py
	$(PY) bench/city_analysis.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/window_city.py
	$(PY) bench/tiles_city.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/map_city.py
	$(PY) bench/search_city.py
	$(PY) bench/shared_workspace.py

screenshot: sysdeps $(STAMP)
	mkdir -p screenshots
	$(PY) main.py --demo --screenshot screenshots/demo.png

demo: $(STAMP)
	$(PY) main.py demo demo.gpkg --overwrite

clean:
	rm -rf $(VENV) .pytest_cache screenshots dist build/pyinstaller

# the desktop app as one folder, dist/lantern/ (PyInstaller; packaging/lantern.spec, packaging/README.md)
BUNDLE_STAMP := $(VENV)/.bundle-installed

$(BUNDLE_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install -q -e ".[bundle]"
	touch $(BUNDLE_STAMP)

bundle: $(STAMP) catalogues $(BUNDLE_STAMP)
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/lantern.spec
	du -sh dist/lantern

# install the bundle with its own install.sh under a temporary PREFIX, then run, isolated, what a user runs first
bundle-test: sysdeps bundle
	$(PY) packaging/smoke_test.py dist/lantern --install
