"""What a Galaxy upload and the Ansible docsite check, run on the built artifact (offline)."""

import json
import os
import re
import tarfile

import release
import yaml
from collection_helpers import BIN
from collection_helpers import REPO
from collection_helpers import run


def test_galaxy_importer_accepts_the_artifact(installed, tmp_path):
    _listing, _root, _env, tmp = installed
    artifact = next(tmp.glob("valet-openstack-*.tar.gz"))
    env = dict(
        os.environ,
        GALAXY_IMPORTER_CONFIG=str(REPO / "tests" / "collection" / "galaxy-importer.cfg"),
        GALAXY_IMPORTER_TMP_ROOT_DIR=str(tmp_path),
        # It finds ansible-doc and ansible-lint on PATH and skips them (with a warning) when missing.
        PATH="%s:%s" % (BIN, os.environ["PATH"]),
    )
    proc = run([str(BIN / "python"), "-m", "galaxy_importer.main", str(artifact)], env=env, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert "Importer processing completed successfully" in out, out
    # ansible-lint findings, a missing tool or an unreadable doc string are logged as warnings.
    problems = [line for line in out.splitlines() if re.match(r"\s*(WARNING|ERROR)", line)]
    assert not problems, out
    result = json.loads((tmp_path / "importer_result.json").read_text())
    docs = {(c["content_type"], c["content_name"]): c for c in result["docs_blob"]["contents"]}
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    for module in modules:
        assert docs[("module", module)]["doc_strings"]["doc"]["short_description"], module
    assert result["metadata"]["repository"].startswith("https://")


def test_antsibull_docs_lint_is_clean(installed):
    _listing, root, env, tmp = installed
    # It runs ansible-doc (found on PATH) with the installed artifact as the only collection.
    env = dict(env, PATH="%s:%s" % (BIN, os.environ["PATH"]))
    proc = run([str(BIN / "antsibull-docs"), "lint-collection-docs", "--plugin-docs", str(root)], env=env, cwd=tmp)
    assert proc.stdout.strip() == "", proc.stdout


def test_role_platforms_are_the_tested_releases():
    # The Debian releases the test hosts are built for, from build-image.sh's `case` of releases.
    script = (REPO / "tests" / "testhost" / "build-image.sh").read_text()
    tested = re.findall(r"^\s+([a-z]+)\) IMAGE=", script, re.M)
    assert tested == ["bookworm", "trixie"], tested
    for meta in sorted((REPO / "roles").glob("*/meta/main.yml")):
        platforms = yaml.safe_load(meta.read_text())["galaxy_info"]["platforms"]
        assert platforms == [{"name": "Debian", "versions": tested}], meta


def test_release_digest_covers_what_the_artifact_ships(installed):
    # tools/release.py's file list for the collection (what the version check digests) is the
    # artifact's own FILES.json, path for path and checksum for checksum.
    _listing, _root, _env, tmp = installed
    artifact = next(tmp.glob("valet-openstack-*.tar.gz"))
    with tarfile.open(artifact) as tar:
        files = json.load(tar.extractfile("FILES.json"))["files"]
    shipped = {entry["name"]: entry["chksum_sha256"] for entry in files if entry["ftype"] == "file"}
    assert release.collection_files(str(REPO)) == shipped
