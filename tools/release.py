"""Versions that move with their content, and the release steps that need them (`make release`).

Three artifacts ship from this tree, each with its own version:
  valet.openstack   the collection      galaxy.yml `version`; its files: what `ansible-galaxy collection
                                        build` puts in the artifact (build_ignore applied)
  valet-openstack   the plugin package  files/valet_os/valet_os/__init__.py `__version__`
  valet-api         the API service     files/valet_api/valet_api/__init__.py `__version__` (once it exists)
changelogs/releases.json records, for each release, each artifact's version and the sha256 of its
shipped files (path and content). `check` fails when an artifact's files differ from a release that
carried its current version, or when its version is older than its last release: a changed artifact
must carry a new version, so a pinned install (`valet-openstack==1.1.0`) always means one content.
The record is a file in the repository, not git tags, so the check works on any clone.

Run with the test venv's Python (it uses ansible-core's own collection file list):
  python tools/release.py check              problems, one a line; exit 1 if any
  python tools/release.py bump VERSION       write VERSION into every artifact (newer than every
                                             release, or refused)
  python tools/release.py record VERSION [--tree DIR] [--commit SHA] [--date YYYY-MM-DD]
                                             add the release to changelogs/releases.json, from this
                                             tree or DIR (another checkout, for a past release)
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import sys

from packaging.version import Version

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASES = os.path.join("changelogs", "releases.json")
# Never part of a Python package's shipped files: what building or running it leaves behind.
PACKAGE_LEFTOVERS = re.compile(r"(^|/)(__pycache__|build|dist|[^/]*\.egg-info)(/|$)|\.py[co]$")
VERSION_LINE = re.compile(r'^__version__ = ["\']([^"\']+)["\']$', re.M)
GALAXY_VERSION = re.compile(r"^version: *(\S+) *$", re.M)


class Artifact:
    def __init__(self, name, version_file, package_dir=None):
        self.name = name
        self.version_file = version_file  # relative to the tree
        self.package_dir = package_dir  # None: the collection

    def present(self, root):
        return os.path.isfile(os.path.join(root, self.version_file))

    def _pattern(self):
        return GALAXY_VERSION if self.package_dir is None else VERSION_LINE

    def version(self, root):
        with open(os.path.join(root, self.version_file)) as handle:
            found = self._pattern().findall(handle.read())
        if len(found) != 1:
            raise ValueError("%s: expected one version, found %d" % (self.version_file, len(found)))
        return found[0]

    def set_version(self, root, version):
        path = os.path.join(root, self.version_file)
        with open(path) as handle:
            text = handle.read()
        value = version if self.package_dir is None else '"%s"' % version
        head = "version: " if self.package_dir is None else "__version__ = "
        text = self._pattern().sub(lambda _m: head + value, text, count=1)
        with open(path, "w") as handle:
            handle.write(text)

    def files(self, root):
        """{path relative to the tree: sha256 of its content} of the files this artifact ships."""
        if self.package_dir is None:
            return collection_files(root)
        found = {}
        top = os.path.join(root, self.package_dir)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for filename in filenames:
                path = os.path.relpath(os.path.join(dirpath, filename), root).replace(os.sep, "/")
                if not PACKAGE_LEFTOVERS.search(path):
                    found[path] = file_sha256(os.path.join(dirpath, filename))
        return found

    def digest(self, root):
        return files_digest(self.files(root))


ARTIFACTS = (
    Artifact("valet.openstack", "galaxy.yml"),
    Artifact("valet-openstack", "files/valet_os/valet_os/__init__.py", "files/valet_os"),
    Artifact("valet-api", "files/valet_api/valet_api/__init__.py", "files/valet_api"),
)


def file_sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def files_digest(files):
    """One sha256 over every (path, content sha256): a renamed, added or removed file counts too."""
    lines = "".join("%s\0%s\n" % (path, files[path]) for path in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def collection_files(root):
    # ansible-galaxy's own file list for `collection build` (galaxy.yml's build_ignore and its
    # defaults), so the digest covers what the artifact ships; tests/collection/test_publish.py
    # compares it with a built artifact's FILES.json.
    from ansible.galaxy.collection import _build_files_manifest
    from ansible.galaxy.collection import _get_meta_from_src_dir

    broot = os.path.abspath(root).encode()
    meta = _get_meta_from_src_dir(broot)
    manifest = _build_files_manifest(
        broot, meta["namespace"], meta["name"], meta["build_ignore"], meta["manifest"], meta["license_file"]
    )
    return {entry["name"]: entry["chksum_sha256"] for entry in manifest["files"] if entry["ftype"] == "file"}


def load_releases(root):
    path = os.path.join(root, RELEASES)
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


def check(root, releases=None):
    """Problems with the tree's versions against the recorded releases, in words."""
    releases = load_releases(root) if releases is None else releases
    problems = []
    for artifact in ARTIFACTS:
        if not artifact.present(root):
            continue  # valet-api before it lands
        version = artifact.version(root)
        shipped = [(name, entry[artifact.name]) for name, entry in releases.items() if artifact.name in entry]
        if not shipped:
            continue  # never released: any version will do
        last_name, last = max(shipped, key=lambda item: Version(item[1]["version"]))
        if Version(version) < Version(last["version"]):
            problems.append(
                "%s: version %s (%s) is older than %s, released in %s"
                % (artifact.name, version, artifact.version_file, last["version"], last_name)
            )
            continue
        digest = artifact.digest(root)
        for name, entry in shipped:
            if entry["version"] == version and entry["sha256"] != digest:
                problems.append(
                    "%s: its shipped files changed since release %s, which already carried version %s:"
                    " raise the version in %s (git diff %s shows the change where the tag exists)"
                    % (artifact.name, name, version, artifact.version_file, name)
                )
    return problems


def bump(root, version):
    """Write `version` into every artifact, refusing one that is not newer than every release."""
    released = [Version(name) for name in load_releases(root)]
    if released and Version(version) <= max(released):
        raise ValueError("version %s is not newer than release %s" % (version, max(released)))
    for artifact in ARTIFACTS:
        if artifact.present(root):
            artifact.set_version(root, version)


def record(root, version, tree=None, commit=None, date=None):
    """Add release `version` to root's releases.json with the artifacts of `tree` (default root)."""
    tree = tree or root
    releases = load_releases(root)
    if version in releases:
        raise ValueError("release %s is already recorded in %s" % (version, RELEASES))
    entry = {"date": date or datetime.date.today().isoformat()}
    if commit:
        entry["commit"] = commit
    for artifact in ARTIFACTS:
        if not artifact.present(tree):
            continue
        found = artifact.version(tree)
        if found != version:
            raise ValueError(
                "%s carries version %s, not %s (%s)" % (artifact.name, found, version, artifact.version_file)
            )
        entry[artifact.name] = {"version": found, "sha256": artifact.digest(tree)}
    releases[version] = entry
    ordered = dict(sorted(releases.items(), key=lambda item: Version(item[0])))
    with open(os.path.join(root, RELEASES), "w") as handle:
        json.dump(ordered, handle, indent=2)
        handle.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check")
    sub.add_parser("bump").add_argument("version")
    rec = sub.add_parser("record")
    rec.add_argument("version")
    rec.add_argument("--tree")
    rec.add_argument("--commit")
    rec.add_argument("--date")
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check(REPO)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    try:
        if args.command == "bump":
            bump(REPO, args.version)
        else:
            record(REPO, args.version, args.tree, args.commit, args.date)
    except ValueError as exc:
        print("release: %s" % exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
