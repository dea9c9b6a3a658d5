"""Each shipped artifact's version moves with its content (tools/release.py, changelogs/releases.json)."""

import json
import os
import shutil
import subprocess

import pytest
import release

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Enough of the tree for all three artifacts: the collection's runtime content and both packages.
COPIED = ("galaxy.yml", "README.md", "COPYING", "meta", "plugins", "roles", "playbooks", "files/valet_os")
LEFTOVERS = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")


def test_versions_move_with_content():
    """The tree against every recorded release: the check CI runs (`make release-check`)."""
    assert release.load_releases(REPO), "changelogs/releases.json records no release"
    assert release.check(REPO) == []


def test_every_release_records_the_artifacts_it_shipped():
    releases = release.load_releases(REPO)
    for name, entry in releases.items():
        assert entry["valet.openstack"]["version"] == name
        assert entry["valet-openstack"]["version"] == name
        for artifact in release.ARTIFACTS:
            if artifact.name in entry:
                assert len(entry[artifact.name]["sha256"]) == 64


@pytest.fixture
def tree(tmp_path):
    """A copy of the shipped parts of this tree, released as its current version."""
    root = tmp_path / "tree"
    for part in COPIED:
        src, dest = os.path.join(REPO, part), root / part
        if os.path.isdir(src):
            shutil.copytree(src, dest, ignore=LEFTOVERS)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest)
    (root / "changelogs").mkdir()
    version = release.ARTIFACTS[0].version(str(root))
    release.bump(str(root), version)  # one version for every artifact, as `make release` leaves them
    release.record(str(root), version)
    with pytest.raises(ValueError, match="not newer than release %s" % version):
        release.bump(str(root), version)
    assert release.check(str(root)) == []
    return root, version


def _next(version):
    major, minor, patch = version.split(".")
    return "%s.%s.%d" % (major, minor, int(patch) + 1)


def test_a_changed_plugin_file_without_a_bump_fails(tree):
    root, version = tree
    filter_py = root / "files/valet_os/valet_os/nova/valet_filter.py"
    filter_py.write_text(filter_py.read_text() + "\n# one more line\n")
    problems = release.check(str(root))
    # The package changed, and so did the collection, which bundles it.
    assert [p.split(":")[0] for p in problems] == ["valet.openstack", "valet-openstack"], problems
    assert "files/valet_os/valet_os/__init__.py" in problems[1] and version in problems[1]

    release.ARTIFACTS[1].set_version(str(root), _next(version))
    assert [p.split(":")[0] for p in release.check(str(root))] == ["valet.openstack"]
    release.ARTIFACTS[0].set_version(str(root), _next(version))
    assert release.check(str(root)) == []


def test_a_change_outside_the_package_needs_only_the_collection_bump(tree):
    root, version = tree
    role_task = root / "roles/valet_openstack/tasks/main.yml"
    role_task.write_text(role_task.read_text() + "\n# one more line\n")
    assert [p.split(":")[0] for p in release.check(str(root))] == ["valet.openstack"]
    release.ARTIFACTS[0].set_version(str(root), _next(version))
    assert release.check(str(root)) == []


def test_what_is_not_shipped_does_not_count(tree):
    root, _version = tree
    # Build leftovers of the package, and a file the collection's build_ignore leaves out.
    (root / "files/valet_os/valet_os/__pycache__").mkdir()
    (root / "files/valet_os/valet_os/__pycache__/paths.cpython-311.pyc").write_bytes(b"\0")
    (root / "files/valet_os/build").mkdir()
    (root / "files/valet_os/build/x.py").write_text("x = 1\n")
    (root / "ruff.toml").write_text("line-length = 1\n")
    # What the test tools leave at the top (`make lint` runs ruff before `make unit`).
    for cache in (".ruff_cache", ".pytest_cache", ".hypothesis"):
        (root / cache / "0").mkdir(parents=True)
        (root / cache / "0" / "entry").write_text("x")
    assert release.check(str(root)) == []


def test_the_collection_ships_only_files_under_version_control():
    """An untracked file in the digest (a tool's cache) makes a release's record unreproducible."""
    if not os.path.isdir(os.path.join(REPO, ".git")):
        pytest.skip("not a git checkout: nothing to compare the file list with")
    tracked = subprocess.run(
        ["git", "-C", REPO, "ls-files", "-z"], check=True, capture_output=True, text=True
    ).stdout.split("\0")
    assert sorted(set(release.ARTIFACTS[0].files(REPO)) - set(tracked)) == []


def test_a_version_older_than_the_last_release_fails(tree):
    root, version = tree
    release.ARTIFACTS[1].set_version(str(root), "0.9.0")
    # (The collection bundles the package, so its files changed too.)
    problems = dict(p.split(": ", 1) for p in release.check(str(root)))
    assert problems["valet-openstack"].startswith("version 0.9.0") and version in problems["valet-openstack"]


def test_valet_api_is_checked_once_it_exists_and_released(tree):
    root, version = tree
    package = root / "files/valet_api/valet_api"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("__version__ = '0.1.0'\n")  # either quote
    # Never released: nothing to compare with (the collection, which bundles files/, is).
    assert [p.split(":")[0] for p in release.check(str(root))] == ["valet.openstack"]
    releases = json.loads((root / "changelogs/releases.json").read_text())
    releases[version]["valet-api"] = {"version": "0.1.0", "sha256": release.ARTIFACTS[2].digest(str(root))}
    (root / "changelogs/releases.json").write_text(json.dumps(releases))
    assert [p.split(":")[0] for p in release.check(str(root))] == ["valet.openstack"]
    (package / "wsgi.py").write_text("application = None\n")
    problems = dict(p.split(": ", 1) for p in release.check(str(root)))
    assert "files/valet_api/valet_api/__init__.py" in problems["valet-api"]


def test_record_refuses_a_tree_whose_versions_differ(tree):
    root, version = tree
    release.ARTIFACTS[0].set_version(str(root), _next(version))
    with pytest.raises(ValueError, match="valet-openstack carries version %s, not" % version):
        release.record(str(root), _next(version))
