"""The host's rollout lock (tasks/lock.yml): one run at a time changes a host.

argv[1]: JSON {"path", "action": take | check | release, "holder": {...}}. take creates `path`
exclusively (O_EXCL: of two runs, one wins) with the holder in it; check only says whether take
would win (check mode); release removes the file if this run's holder (its token) is in it.
Prints one JSON object: {"taken": bool, "holder": what the file says} or {"released": bool}.
Standard library only: it runs in the service's Python, as valet_state.py.
"""

import json
import os
import sys


def read(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        return {'unreadable': '%s: %s' % (type(exc).__name__, exc)}


def main():
    args = json.loads(sys.argv[1])
    path, action, holder = args['path'], args['action'], args.get('holder') or {}
    if action == 'release':
        found = read(path) if os.path.exists(path) else {}
        mine = bool(found) and found.get('token') == holder.get('token')
        if mine:
            os.remove(path)
            # A directory made for the lock alone goes with it (a run that changed nothing leaves nothing).
            if found.get('made_dir'):
                try:
                    os.rmdir(os.path.dirname(path))
                except OSError:
                    pass  # the ledger or another file of the role lives there now
        print(json.dumps({'released': mine}))
        return
    if action == 'check':
        print(json.dumps({'taken': not os.path.exists(path), 'holder': read(path) if os.path.exists(path) else None}))
        return
    directory = os.path.dirname(path)
    made_dir = not os.path.isdir(directory)
    if made_dir:
        os.makedirs(directory, 0o700)
    holder = dict(holder, made_dir=made_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(json.dumps({'taken': False, 'holder': read(path)}))
        return
    with os.fdopen(fd, 'w') as handle:
        json.dump(holder, handle)
    print(json.dumps({'taken': True, 'holder': holder}))


main()
