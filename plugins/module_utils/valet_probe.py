# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host-side checks of valet.openstack.valet_verify, run in the module's Python: is the service
process running, what did its log say since the restart; and the source text of the probe
(valet_probe_service.py) that the module runs in the service's own Python.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import os
import re
import time

from ansible_collections.valet.openstack.plugins.module_utils import valet_probe_service
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import HEAT_RESOURCE
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import START_LOGGER
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import VALET_MENTION

# heat-engine logs its whole resource registry ("Registered: ...") when an engine worker
# starts; nova-scheduler logs "Starting scheduler node" after its filters loaded.
START_LINE = {'heat': re.compile(r'Registered: '),
              'nova': re.compile(r'Starting scheduler node')}
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
    result = {'offending': None, 'started': False, 'registered': False, 'hooked': False,
              'rotated': rotated, 'lines': len(lines)}
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
            result['offending'] = 'line %d after byte %d: %s' % (
                number, 0 if rotated else offset, line.strip()[:400])
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
    checks = [_check('process', pids, '%s running as pid %s' % (name, ', '.join(map(str, pids))) if pids
                     else 'no process named %s in /proc after %ss' % (name, timeout))]
    if not log_file:
        return checks + [_check('log_errors', True, 'log checks skipped (log_file empty)')]
    if log is None:
        return checks + [_check('log_errors', False, '%s does not exist' % log_file)]
    where = '%s since byte %d (%d lines%s)' % (
        log_file, 0 if log['rotated'] else params['log_offset'], log['lines'],
        ', the file is shorter than log_offset: rotated?' if log['rotated'] else '')
    if log['offending']:
        checks.append(_check('log_errors', False, '%s: %s' % (log_file, log['offending'])))
    else:
        checks.append(_check('log_errors', True, 'no error about Valet in %s' % where))
    start = START_LINE[component].pattern
    if not want_start:
        why = 'off in the config' if info_logged is False else 'set by log_config_append'
        checks.append(_check('log_started', True, 'start line "%s" not awaited: INFO for %s is %s' % (
            start, START_LOGGER[component], why)))
    elif log['started']:
        checks.append(_check('log_started', True, 'start line "%s" found in %s' % (start, where)))
    else:
        checks.append(_check('log_started', False, 'no start line "%s" in %s after %ss' % (start, where, timeout)))
    if component != 'heat':
        return checks
    if not log['started']:
        return checks + [_check('log_registered', True, 'Heat logged no "Registered:" line at the configured level: '
                                                        'registration not visible in %s' % where)]
    # heat-engine logged its registry at INFO, so ours must be in it (or not, if absent)
    present = params['expect'] == 'present'
    checks.append(_check('log_registered', log['registered'] == present, '%s registration %s in %s' % (
        HEAT_RESOURCE, 'logged' if log['registered'] else 'not logged', where)))
    # The running engine (not only the probe) installed the convergence hook at start.
    checks.append(_check('log_convergence_hook', log['hooked'] == present, 'line "%s" %s in %s' % (
        HOOK_LINE.pattern, 'logged' if log['hooked'] else 'not logged', where)))
    return checks


def _check(name, ok, detail):
    """One entry of the module's `checks` (the probe's _Report.check makes the same shape)."""
    return {'name': name, 'ok': bool(ok), 'detail': detail}


