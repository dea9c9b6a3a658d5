# Entry points for people and CI. `make demo` and `make test` are the two README commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
# molecule and ansible-test find this collection through the link made by `collection-link`,
# and containers.podman through the `ansible` package installed in the venv.
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)
# molecule.yml puts this on ANSIBLE_COLLECTIONS_PATH: where the `ansible` package keeps containers.podman.
export VALET_SITE_COLLECTIONS = $(shell $(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null)
# Test-host release for `make demo` / `make testhost` (bookworm: the fastest to build).
RELEASE ?= bookworm
export RELEASE

.PHONY: help deps venv collection-link testhost demo demo-destroy lint sanity unit molecule test bench bench-boot bench-rollout build \
	release-check release clean

help:
	@echo "make demo   - sandbox controller in podman, converge site.yml, create a demo stack"
	@echo "make test   - lint, sanity, pytest, every molecule scenario"

deps:  ## Debian packages the tests and the demo need (root)
	bash tests/install-host-deps.sh

$(BIN)/ansible-playbook: requirements-test.txt files/valet_os/pyproject.toml files/valet_api/pyproject.toml
	bash tests/install-host-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-test.txt
	$(BIN)/pip install -q -e files/valet_os
	$(BIN)/pip install -q -e files/valet_api
	touch $@

venv: $(BIN)/ansible-playbook

collection-link:
	mkdir -p .collections/ansible_collections/valet
	ln -sfn ../../.. .collections/ansible_collections/valet/openstack

testhost: deps venv
	bash tests/testhost/build-image.sh --release $(RELEASE)

demo: testhost collection-link
	bash tests/testhost/demo.sh

demo-destroy: venv collection-link
	bash tests/testhost/demo.sh destroy

lint: venv collection-link  ## ansible-lint, and ruff (ruff.toml) over all the Python
	$(BIN)/ansible-lint --profile production
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sanity: venv
	bash tests/sanity.sh

unit: venv collection-link
	$(BIN)/pytest -q -n 2 --dist loadfile tests

molecule: deps venv collection-link
	bash tests/molecule-suite.sh

# Both test-host images build in the background (in parallel, right after the host packages) while
# the venv, lint, sanity and pytest run: a cold image build is mostly apt downloads and db_sync
# waiting on I/O. molecule-suite.sh then finds them cached.
test: deps
	mkdir -p tests/output; \
	bash tests/molecule-suite.sh --images-only >tests/output/images.log 2>&1 & images=$$!; \
	$(MAKE) venv collection-link lint sanity unit; rc=$$?; \
	wait $$images; img=$$?; cat tests/output/images.log; \
	[ $$rc -eq 0 ] && [ $$img -eq 0 ]
	$(MAKE) molecule

bench: venv collection-link
	$(BIN)/python benchmarks/bench_filter.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_valet_api.py

bench-boot: venv collection-link  ## Nova boot time, real valet-api vs emulator, on the demo's sandbox (make demo first)
	$(BIN)/python benchmarks/bench_boot.py

bench-rollout: venv collection-link  ## first converge vs no-op re-run, default and multi_controller
	bash benchmarks/rollout.sh

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

# What a release must pass, also part of `make unit`: every artifact's version against
# changelogs/releases.json (tools/release.py), and Galaxy's importer and the docsite's lint on the
# built artifact (tests/collection).
release-check: venv collection-link
	$(BIN)/pytest -q tests/test_versions.py tests/collection

# make release VERSION=x.y.z: one version for the collection and the packages, the release notes from
# changelogs/fragments (antsibull-changelog), the digests in changelogs/releases.json, a commit, the
# tag VERSION and dist/valet-openstack-VERSION.tar.gz. Add a fragment with a `release_summary` first.
release: venv collection-link
	@[[ "$(VERSION)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$$ ]] || { echo "usage: make release VERSION=x.y.z" >&2; exit 1; }
	@[ -z "$$(git status --porcelain)" ] || { echo "release: commit or stash your changes first" >&2; exit 1; }
	@! git rev-parse -q --verify "refs/tags/$(VERSION)" >/dev/null || { echo "release: tag $(VERSION) exists" >&2; exit 1; }
	$(BIN)/pytest -q tests/collection
	$(BIN)/python tools/release.py bump $(VERSION)
	$(BIN)/antsibull-changelog release --version $(VERSION)
	$(BIN)/python tools/release.py record $(VERSION)
	$(BIN)/python tools/release.py check
	git add -A galaxy.yml files CHANGELOG.md changelogs
	git commit -q -m "Release $(VERSION)"
	git tag -a $(VERSION) -m "valet.openstack $(VERSION)"
	$(BIN)/ansible-galaxy collection build --force --output-path dist .

clean:
	rm -rf dist .pytest_cache tests/output
