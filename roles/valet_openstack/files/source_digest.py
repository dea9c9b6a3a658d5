"""Digest of the bundled package source (run on the Ansible controller by tasks/plan.yml).

The same files install.yml packs (build leftovers excluded): paths and contents, in sorted order,
so the digest changes exactly when what would be staged changes.
"""

import hashlib
import os
import sys

SKIP_DIRS = {'__pycache__', 'build', 'dist'}

root = sys.argv[1]
digest = hashlib.sha256()
for top, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith('.egg-info'))
    for name in sorted(files):
        path = os.path.join(top, name)
        digest.update(os.path.relpath(path, root).encode() + b'\0')
        with open(path, 'rb') as handle:
            digest.update(handle.read() + b'\0')
print(digest.hexdigest())
