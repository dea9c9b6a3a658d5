"""Where this installation put its files: `python -m valet_os.paths` prints them as JSON.

The Ansible role asks this instead of guessing, because the data files land under
the install prefix (/usr/local for Debian's pip, the venv for a venv) and, for an
editable install, stay in the source tree.
"""

import json
import os
import sys
from importlib import metadata
from urllib.parse import unquote
from urllib.parse import urlparse

import valet_os

DIST = "valet-openstack"
PLUGIN_SUBDIR = os.path.join("etc", "valet_os", "heat")
PLUGIN_FILE = "GroupAssignment.py"


def _distribution():
    try:
        return metadata.distribution(DIST)
    except Exception:
        return None


def _editable_source(dist):
    """The source directory of an editable install (PEP 610 direct_url.json), or None."""
    try:
        info = json.loads(dist.read_text("direct_url.json") or "null")
    except (ValueError, OSError):
        return None
    if not info or not (info.get("dir_info") or {}).get("editable"):
        return None
    url = urlparse(info.get("url", ""))
    return unquote(url.path) if url.scheme == "file" else None


def heat_plugin_dir():
    dist = _distribution()
    if dist is not None:
        source = _editable_source(dist)
        if source:
            return os.path.join(os.path.abspath(source), PLUGIN_SUBDIR)
        # RECORD lists data files relative to site-packages (../../../etc/...), so
        # locate_file gives their real place whatever the prefix and layout.
        for path in dist.files or []:
            if path.name == PLUGIN_FILE and "valet_os" in path.parts:
                return os.path.dirname(os.path.realpath(str(dist.locate_file(path))))
    # Not installed: running from a source checkout.
    tree = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(valet_os.__file__))), PLUGIN_SUBDIR)
    if os.path.isfile(os.path.join(tree, PLUGIN_FILE)):
        return tree
    return os.path.join(sys.prefix, PLUGIN_SUBDIR)


def info():
    return {"version": valet_os.__version__, "heat_plugin_dir": heat_plugin_dir()}


def main():
    print(json.dumps(info(), sort_keys=True))


if __name__ == "__main__":
    main()
