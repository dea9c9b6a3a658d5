# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-side checks of valet.openstack.valet_verify, run in the module's Python: is the service
process running, what did its log say since the restart; the record of a passed verification
(proof_cache); and the source text of the probe (valet_probe_service.py) that the module runs in
the service's own Python.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import tempfile
import time

from ansible_collections.valet.openstack.plugins.module_utils import valet_probe_service
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import HEAT_RESOURCE
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import START_LOGGER
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import VALET_MENTION

# heat-engine logs its whole resource registry ("Registered: ...") when an engine worker
# starts; nova-scheduler logs "Starting scheduler node" after its filters loaded.
START_LINE = {'heat': re.compile(r'Registered: '), 'nova': re.compile(r'Starting scheduler node')}
REGISTERED_LINE = re.compile(r'Registered: .*' + re.escape(HEAT_RESOURCE) + r'\b')
# Logged by valet_os.heat.convergence when heat-engine loads it at start.
HOOK_LINE = re.compile(r'valet: convergence hook active in Heat')
BAD_LEVEL = re.compile(r'\b(ERROR|CRITICAL)\b|Traceback|Encountered exception while loading')
# "2026-11-25 16:30:53.123 4242 " : an oslo.log record head (timestamp + pid)
RECORD_HEAD = re.compile(r'^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[.,]?\d*\s+\d+)')


def probe_source():
    """The probe's source text, read through the loader: works from the AnsiballZ zip as
    well as from a checkout."""
    loader = getattr(valet_probe_service, '__loader__', None)
    source = loader.get_source(valet_probe_service.__name__) if loader is not None else None
    if not source:
        with open(valet_probe_service.__file__) as f:
            source = f.read()
    return source


def find_processes(service_name, proc='/proc'):
    """PIDs of live processes whose program or script is `service_name`.

    Matches "/usr/bin/python3 /usr/bin/heat-engine ..." (argv[1]), a console script
    or `exec -a heat-engine` (argv[0]), and setproctitle titles such as
    "heat-engine: master process [...]" (first word of argv[0]).
    """
    found = []
    own = {os.getpid(), os.getppid()}
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) in own:
            continue
        try:
            with open(os.path.join(proc, entry, 'cmdline'), 'rb') as f:
                argv = f.read().decode('utf-8', 'replace').split('\0')
            with open(os.path.join(proc, entry, 'stat')) as f:
                # state follows the "(comm)" field, which may itself contain spaces
                state = f.read().rsplit(')', 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # gone meanwhile, or a kernel thread
        if state in ('Z', 'X'):
            continue
        for arg in argv[:2]:
            words = arg.split()
            if words and os.path.basename(words[0].rstrip(':')) == service_name:
                found.append(int(entry))
                break
    return found


def _records(lines):
    """Group log lines into records: a traceback printed by oslo.log repeats the same
    "timestamp pid" head on every line, a bare one has no head at all."""
    record, head = [], None
    for number, line in lines:
        match = RECORD_HEAD.match(line)
        if record and (match is None or match.group(1) == head):
            record.append((number, line))
            continue
        if record:
            yield record
        record, head = [(number, line)], match.group(1) if match else None
    if record:
        yield record


def scan_log(path, offset, component):
    """What the log says since byte `offset`.

    Returns dict: offending (first bad line or None), started (start line seen),
    registered (GroupAssignment registration line seen), rotated (file shorter than
    offset, read from 0), lines (how many lines examined).
    """
    size = os.path.getsize(path)
    rotated = size < offset
    with open(path, 'rb') as f:
        f.seek(0 if rotated else offset)
        text = f.read().decode('utf-8', 'replace')
    lines = list(enumerate(text.splitlines(), 1))
    result = {
        'offending': None,
        'started': False,
        'registered': False,
        'hooked': False,
        'rotated': rotated,
        'lines': len(lines),
    }
    for _number, line in lines:
        if START_LINE[component].search(line):
            result['started'] = True
        if REGISTERED_LINE.search(line):
            result['registered'] = True
        if HOOK_LINE.search(line):
            result['hooked'] = True
    for record in _records(lines):
        if not any(BAD_LEVEL.search(line) for _n, line in record):
            continue
        mention = [(n, line) for n, line in record if VALET_MENTION.search(line)]
        if mention:
            number, line = mention[0]
            result['offending'] = 'line %d after byte %d: %s' % (number, 0 if rotated else offset, line.strip()[:400])
            break
    return result


def watch_service(params, info_logged):
    """Process and log checks, retried until the service is up, an error shows, or time is out."""
    component, log_file = params['component'], params['log_file']
    deadline = time.monotonic() + params['settle_timeout']
    # Wait for the start line only where the service logs it at the configured level
    # (info_logged None: a logging config file decides, we cannot tell).
    want_start = bool(log_file) and info_logged is True
    # heat-engine dumps its registry line by line, plugin_dirs resources last
    want_registered = want_start and component == 'heat' and params['expect'] == 'present'
    settled = False
    while True:
        pids = find_processes(params['service_name'])
        log = None
        if log_file and os.path.exists(log_file):
            log = scan_log(log_file, params['log_offset'], component)
        up = pids and (not want_start or (log and log['started'] and (log['registered'] or not want_registered)))
        if (log and log['offending']) or time.monotonic() >= deadline:
            break
        if up and settled:
            break
        # once up, look once more a second later: lines of the same start still coming
        settled = bool(up)
        time.sleep(1)

    name, timeout = params['service_name'], params['settle_timeout']
    checks = [
        _check(
            'process',
            pids,
            '%s running as pid %s' % (name, ', '.join(map(str, pids)))
            if pids
            else 'no process named %s in /proc after %ss' % (name, timeout),
        )
    ]
    if pids:
        checks.append(current_check(name, pids, params['config_file']))
    if not log_file:
        return checks + [_check('log_errors', True, 'log checks skipped (log_file empty)')]
    if log is None:
        return checks + [_check('log_errors', False, '%s does not exist' % log_file)]
    where = '%s since byte %d (%d lines%s)' % (
        log_file,
        0 if log['rotated'] else params['log_offset'],
        log['lines'],
        ', the file is shorter than log_offset: rotated?' if log['rotated'] else '',
    )
    if log['offending']:
        checks.append(_check('log_errors', False, '%s: %s' % (log_file, log['offending'])))
    else:
        checks.append(_check('log_errors', True, 'no error about Valet in %s' % where))
    start = START_LINE[component].pattern
    if not want_start:
        why = 'off in the config' if info_logged is False else 'set by log_config_append'
        checks.append(
            _check(
                'log_started',
                True,
                'start line "%s" not awaited: INFO for %s is %s' % (start, START_LOGGER[component], why),
            )
        )
    elif log['started']:
        checks.append(_check('log_started', True, 'start line "%s" found in %s' % (start, where)))
    else:
        checks.append(_check('log_started', False, 'no start line "%s" in %s after %ss' % (start, where, timeout)))
    if component != 'heat':
        return checks
    if not log['started']:
        return checks + [
            _check(
                'log_registered',
                True,
                'Heat logged no "Registered:" line at the configured level: registration not visible in %s' % where,
            )
        ]
    # heat-engine logged its registry at INFO, so ours must be in it (or not, if absent)
    present = params['expect'] == 'present'
    checks.append(
        _check(
            'log_registered',
            log['registered'] == present,
            '%s registration %s in %s' % (HEAT_RESOURCE, 'logged' if log['registered'] else 'not logged', where),
        )
    )
    # The running engine (not only the probe) installed the convergence hook at start.
    checks.append(
        _check(
            'log_convergence_hook',
            log['hooked'] == present,
            'line "%s" %s in %s' % (HOOK_LINE.pattern, 'logged' if log['hooked'] else 'not logged', where),
        )
    )
    return checks


def _check(name, ok, detail):
    """One entry of the module's `checks` (the probe's _Report.check makes the same shape)."""
    return {'name': name, 'ok': bool(ok), 'detail': detail}


# ---------------------------------------------------------------------------
# did the running processes read the config files as they are now?


def process_started_at(pid, proc='/proc'):
    """Wall-clock start of `pid` (epoch seconds), to 1/CLK_TCK: its start in ticks since boot, put on
    the wall clock through /proc/uptime (centiseconds) rather than /proc/stat's btime (whole seconds).
    A wall clock stepped back since the start makes it look earlier: at worst one restart too many."""
    ticks = _process_start(pid, proc)
    if ticks is None:
        return None
    try:
        with open(os.path.join(proc, 'uptime')) as f:
            uptime = float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    return time.time() - uptime + ticks / float(os.sysconf('SC_CLK_TCK'))


def config_changed_at(config_file):
    """When what the service reads last changed: the ctime of the config file (and of the link, if
    it is one), of <config_file>.d and of the .conf files in it. ctime moves on every write, rename
    or chmod and, unlike mtime, cannot be set back. None when none of them can be read."""
    paths = _config_files(config_file) + ([config_file + '.d'] if os.path.isdir(config_file + '.d') else [])
    times = []
    for path in paths:
        for stat in (os.stat, os.lstat):
            try:
                times.append(stat(path).st_ctime)
            except OSError:
                pass
    return max(times) if times else None


def _utc(epoch):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(epoch)) + ('.%02dZ' % int(epoch % 1 * 100))


START_MARGIN = 0.05  # seconds


def current_check(name, pids, config_file):
    """process_current: every process of the service started after its config last changed. A
    process older than the change runs the config as it was (a run interrupted between the edit and
    the restart, or an edit nobody applied): the files alone prove nothing about it."""
    changed = config_changed_at(config_file)
    started = dict((pid, process_started_at(pid)) for pid in pids)
    known = dict((pid, at) for pid, at in started.items() if at is not None)
    if changed is None or not known:
        return _check('process_current', True, 'start time of %s or change time of %s unknown' % (name, config_file))
    oldest = min(known, key=known.get)
    # The start is known to a clock tick (truncated) and the ctime to a coarse clock tick: a start
    # within this margin after the change could look earlier (a restart right after an edit).
    if known[oldest] < changed - START_MARGIN:
        return _check(
            'process_current',
            False,
            '%s (pid %d) started at %s, before %s (or a file it reads) last changed at %s: it runs the '
            'configuration as it was then; restart it'
            % (name, oldest, _utc(known[oldest]), config_file, _utc(changed)),
        )
    return _check(
        'process_current',
        True,
        '%s started at %s, after %s last changed at %s' % (name, _utc(known[oldest]), config_file, _utc(changed)),
    )


# ---------------------------------------------------------------------------
# the record of a passed verification (option proof_cache)

# 2: a proof includes process_current (a record of format 1 proved less: proven again).
PROOF_FORMAT = 2


def _process_start(pid, proc='/proc'):
    """Start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat): a pid reused by
    another process has another start time."""
    try:
        with open(os.path.join(proc, str(pid), 'stat')) as f:
            return int(f.read().rsplit(')', 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _config_files(config_file):
    """The files the probe loads: the config file and the *.conf of <config_file>.d."""
    directory = config_file + '.d'
    extra = (
        sorted(os.path.join(directory, name) for name in os.listdir(directory) if name.endswith('.conf'))
        if os.path.isdir(directory)
        else []
    )
    return [config_file] + extra


def fingerprint(params):
    """What a passed verification depends on, as one digest: the component, the service's Python,
    the bytes and change time of every config file the service reads, and the service's processes
    (pid and start time). Any of them different (an edit, a restart, a worker respawned) means proving again.
    None when the service does not run: nothing to remember."""
    pids = sorted(find_processes(params['service_name']))
    if not pids:
        return None
    digest = hashlib.sha256()
    try:
        for path in _config_files(params['config_file']):
            with open(path, 'rb') as f:
                digest.update(hashlib.sha256(f.read()).hexdigest().encode('ascii'))
    except OSError:
        return None
    state = {
        'format': PROOF_FORMAT,
        'component': params['component'],
        'python': params['python'],
        'config': digest.hexdigest(),
        # a rewrite with the same bytes after the proof (process_current could fail now) proves again
        'config_changed': config_changed_at(params['config_file']),
        'processes': [[pid, _process_start(pid)] for pid in pids],
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode('utf-8')).hexdigest()


def read_proofs(path):
    """{component: {"fingerprint", "proven_at", "checks"}} from `path`; {} when missing or unreadable
    (a record that cannot be read only costs a full verification)."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_proofs(path, proofs):
    """Atomic write, root only; the file is removed when no record is left."""
    if not proofs:
        if os.path.exists(path):
            os.remove(path)
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix='.proofs-')
    with os.fdopen(handle, 'w') as f:
        json.dump(proofs, f, indent=1, sort_keys=True)
    os.chmod(tmp, 0o600)
    os.rename(tmp, path)
