# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks behind valet.openstack.valet_verify.

This file has two lives:

* the module imports it (in the Python running Ansible) for the host-side checks:
  is the service process running, what did its log say since the restart;
* the module also sends its *source text* to the service's own interpreter
  (``python -c <this file> <json args>``), which may be a different Python (Debian's
  /usr/bin/python3 with Heat/Nova from packages, or a venv). There it runs main():
  it loads the service config with the service's own oslo.config options and the
  same plugin loading the service does at start, and prints one JSON document.

So: standard library only at module level, Python 3.8+, Heat/Nova imported lazily,
and nothing from the config is printed except the options we check (no secrets).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import logging
import os
import re
import sys
import time
import traceback

HEAT_RESOURCE = 'ATT::Valet::GroupAssignment'
HEAT_EP_GROUP = 'heat.stack_lifecycle_plugins'
HEAT_EP_NAME = 'valet.lifecycle_plugin'
NOVA_FILTER_PATH = 'valet_os.nova.valet_filter.ValetFilter'
NOVA_FILTER_NAME = 'ValetFilter'
# Nova-juno option names under [DEFAULT], mapped to [filter_scheduler] by newer Nova
# only while it still declares them as deprecated names.
NOVA_LEGACY = {'available_filters': 'scheduler_available_filters',
               'enabled_filters': 'scheduler_default_filters'}

# Loggers whose INFO lines tell that the service came up, and the lines themselves.
# heat-engine logs its whole resource registry ("Registered: ...") when an engine
# worker starts; nova-scheduler logs "Starting scheduler node" after its filters loaded.
START_LOGGER = {'heat': 'heat.engine.environment', 'nova': 'nova.service'}
START_LINE = {'heat': re.compile(r'Registered: '),
              'nova': re.compile(r'Starting scheduler node')}
REGISTERED_LINE = re.compile(r'Registered: .*' + re.escape(HEAT_RESOURCE) + r'\b')
# Logged by valet_os.heat.convergence when heat-engine loads it at start.
HOOK_LINE = re.compile(r'valet: convergence hook active in Heat')
HOOK_ATTR = '_valet_convergence_hook'

BAD_LEVEL = re.compile(r'\b(ERROR|CRITICAL)\b|Traceback|Encountered exception while loading')
VALET_MENTION = re.compile(r'valet|GroupAssignment|SchedulerHostFilterNotFound|plugin_dirs'
                           r'|Failed to import', re.IGNORECASE)
# "2026-11-25 16:30:53.123 4242 " : an oslo.log record head (timestamp + pid)
RECORD_HEAD = re.compile(r'^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[.,]?\d*\s+\d+)')


# ---------------------------------------------------------------------------
# host-side checks (run in the module's Python)
# ---------------------------------------------------------------------------

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
    for number, line in lines:
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

    checks = [{'name': 'process', 'ok': bool(pids), 'detail':
               '%s running as pid %s' % (params['service_name'], ', '.join(map(str, pids))) if pids else
               'no process named %s in /proc after %ss' % (params['service_name'], params['settle_timeout'])}]
    if not log_file:
        return checks + [{'name': 'log_errors', 'ok': True, 'detail': 'log checks skipped (log_file empty)'}]
    if log is None:
        return checks + [{'name': 'log_errors', 'ok': False, 'detail': '%s does not exist' % log_file}]
    where = '%s since byte %d (%d lines%s)' % (
        log_file, 0 if log['rotated'] else params['log_offset'], log['lines'],
        ', the file is shorter than log_offset: rotated?' if log['rotated'] else '')
    checks.append({'name': 'log_errors', 'ok': not log['offending'],
                   'detail': '%s: %s' % (log_file, log['offending']) if log['offending'] else
                   'no error about Valet in %s' % where})
    start = START_LINE[component].pattern
    if want_start:
        checks.append({'name': 'log_started', 'ok': log['started'], 'detail':
                       'start line "%s" found in %s' % (start, where) if log['started'] else
                       'no start line "%s" in %s after %ss' % (start, where, params['settle_timeout'])})
    else:
        checks.append({'name': 'log_started', 'ok': True, 'detail':
                       'start line "%s" not awaited: INFO for %s is %s' % (
                           start, START_LOGGER[component],
                           'off in the config' if info_logged is False else 'set by log_config_append')})
    if component == 'heat' and log['started']:
        # heat-engine logged its registry at INFO, so ours must be in it (or not, if absent)
        present = params['expect'] == 'present'
        checks.append({'name': 'log_registered', 'ok': log['registered'] == present, 'detail':
                       '%s registration %s in %s' % (HEAT_RESOURCE,
                                                     'logged' if log['registered'] else 'not logged', where)})
        # The running engine (not only the probe) installed the convergence hook at start.
        checks.append({'name': 'log_convergence_hook', 'ok': log['hooked'] == present, 'detail':
                       'line "%s" %s in %s' % (HOOK_LINE.pattern, 'logged' if log['hooked'] else 'not logged',
                                               where)})
    elif component == 'heat':
        checks.append({'name': 'log_registered', 'ok': True, 'detail':
                       'Heat logged no "Registered:" line at the configured level: registration not visible in %s'
                       % where})
    return checks


# ---------------------------------------------------------------------------
# probe (runs in the service's Python)
# ---------------------------------------------------------------------------

class _Collector(logging.Handler):
    """Keeps the warnings the service's loaders log (why a plugin did not load)."""

    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append('%s: %s' % (record.levelname, record.getMessage()))
        except Exception:  # a broken log call must not break the probe
            pass

    def about_valet(self):
        return [m for m in self.messages if VALET_MENTION.search(m)]


class _Report:
    def __init__(self, component):
        self.data = {'component': component, 'version': None, 'checks': [],
                     'info_logged': None}

    def check(self, name, ok, detail):
        self.data['checks'].append({'name': name, 'ok': bool(ok), 'detail': detail})
        return ok


def _config_error(exc):
    # oslo's parse errors end with the offending line quoted ("...: 'password S3cr3t'"),
    # which may hold a secret: keep file, line number and reason only.
    return re.sub(r""":\s+(['"]).*\1\s*$""", '', '%s: %s' % (type(exc).__name__, exc), flags=re.S)


def _info_enabled(conf, logger_name):
    """Does the service log INFO for `logger_name` with this config? None: unknown."""
    if getattr(conf, 'log_config_append', None):
        return None  # a logging config file decides, we do not parse it
    level = logging.DEBUG if getattr(conf, 'debug', False) else logging.INFO
    best = ''
    for item in getattr(conf, 'default_log_levels', None) or []:
        name, _sep, value = item.partition('=')
        if (logger_name == name or logger_name.startswith(name + '.')) and len(name) > len(best):
            best, level = name, logging.getLevelName(value.strip().upper())
    return isinstance(level, int) and level <= logging.INFO


def _class_file(cls):
    # Heat imports plugin_dirs files without putting them in sys.modules
    module = sys.modules.get(getattr(cls, '__module__', ''))
    if getattr(module, '__file__', None):
        return module.__file__
    for value in vars(cls).values():
        code = getattr(value, '__code__', None)
        if code is not None:
            return code.co_filename
    return '?'


def _entry_points(group):
    from importlib import metadata
    eps = metadata.entry_points()
    if hasattr(eps, 'select'):  # Python 3.10+
        return list(eps.select(group=group))
    return list(eps.get(group, []))  # Python 3.8 / 3.9


def _load_config(conf, project, prog, config_file):
    dirs = [config_file + '.d'] if os.path.isdir(config_file + '.d') else []
    conf([], project=project, prog=prog, default_config_files=[config_file],
         default_config_dirs=dirs)


def probe_heat(args, report, collector):
    present = args['expect'] == 'present'
    from oslo_config import cfg
    from oslo_log import log as oslo_log
    from heat.common import config as heat_config  # noqa: F401  registers heat's options
    try:
        from heat import version
        report.data['version'] = version.version_info.version_string()
    except Exception:
        pass

    oslo_log.register_options(cfg.CONF)
    try:
        _load_config(cfg.CONF, 'heat', 'heat-engine', args['config_file'])
    except Exception as exc:
        return report.check('config', False, '%s: %s' % (args['config_file'], _config_error(exc)))
    report.check('config', True, 'loaded %s with Heat %s' % (args['config_file'], report.data['version']))
    report.data['info_logged'] = _info_enabled(cfg.CONF, START_LOGGER['heat'])

    hints = cfg.CONF.stack_scheduler_hints
    report.data['convergence_engine'] = cfg.CONF.convergence_engine
    if present:
        report.check('stack_scheduler_hints', hints is True,
                     '[DEFAULT] stack_scheduler_hints = %s' % hints)
    else:  # the role restores whatever was there before: nothing to demand
        report.check('stack_scheduler_hints', True,
                     '[DEFAULT] stack_scheduler_hints = %s (not checked for absent)' % hints)

    # The same loading heat-engine does at start: entry points, plugin_dirs, environment.d
    from heat.engine import resources
    plugin_dirs = list(cfg.CONF.plugin_dirs)
    try:
        resources.initialise()
        env = resources.global_env()
    except Exception as exc:
        report.check('resource_registry', False,
                     'Heat failed to load its plugins (plugin_dirs=%s): %s; heat-engine would not start. %s'
                     % (plugin_dirs, _config_error(exc), ' | '.join(collector.about_valet())))
        return False

    try:
        info = env.registry.get_resource_info(HEAT_RESOURCE)
    except Exception:  # older/newer registries raise EntityNotFound instead of None
        info = None
    if info is not None:
        cls = info.get_class()
        where = '%s (%s)' % (getattr(cls, '__module__', '?'), _class_file(cls))
        detail = '%s registered by %s; plugin_dirs=%s' % (HEAT_RESOURCE, where, plugin_dirs)
    else:
        detail = '%s not in Heat\'s global registry; plugin_dirs=%s' % (HEAT_RESOURCE, plugin_dirs)
    warnings = collector.about_valet()
    if warnings:
        detail += '; Heat said: ' + ' | '.join(warnings)
    report.check('resource_registry', (info is not None) == present, detail)

    _check_lifecycle(report, present)
    _check_convergence_hook(report, present)
    return True


def _check_convergence_hook(report, present):
    """Heat's convergence engine calls no lifecycle plugin: Valet hooks its traversal instead.

    resources.initialise() above imported the entry point's module, as heat-engine does at
    start, which installs the hook: what is seen here is what heat-engine gets.
    """
    from heat.engine import stack
    hooked = getattr(getattr(stack.Stack, '_converge_create_or_update', None), HOOK_ATTR, False)
    engine = 'convergence' if report.data['convergence_engine'] else 'legacy'
    if not present:
        return report.check('convergence_hook', not hooked, 'Heat %s: convergence hook %s' % (
            report.data['version'], 'still installed' if hooked else 'not installed'))
    try:
        from valet_os.heat import convergence
        state = convergence.STATUS['state']
    except Exception as exc:
        state = 'valet_os.heat.convergence does not import: %s' % _config_error(exc)
    if hooked and state == 'active':
        return report.check('convergence_hook', True, 'Heat %s: convergence hook active (%s engine)'
                            % (report.data['version'], engine))
    # Only stacks of the convergence engine need the hook; legacy ones use the lifecycle plugin.
    return report.check('convergence_hook', engine == 'legacy',
                        'Heat %s is not supported by the Valet convergence hook (%s): stacks of the '
                        'convergence engine would get no Valet plan%s' % (
                            report.data['version'], state,
                            '' if engine == 'convergence' else '; the legacy engine is used here'))


def _check_lifecycle(report, present):
    from heat.common import lifecycle_plugin_utils
    from heat.engine import lifecycle_plugin

    eps = [ep for ep in _entry_points(HEAT_EP_GROUP) if ep.name == HEAT_EP_NAME]
    cls, problem = None, None
    if eps:
        try:
            cls = eps[0].load()
        except Exception as exc:
            problem = 'entry point %s = %s does not load: %s' % (HEAT_EP_NAME, eps[0].value, _config_error(exc))
        else:
            if not (isinstance(cls, type) and issubclass(cls, lifecycle_plugin.LifecyclePlugin)):
                problem = '%s is not a heat LifecyclePlugin subclass' % eps[0].value
    # What Heat itself will call around stack operations (instantiates the plugins)
    used = [type(p) for p in lifecycle_plugin_utils.get_plug_point_class_instances()]
    ours = [c for c in used if c is cls or c.__module__.startswith('valet_os.')]

    if present:
        if not eps:
            report.check('lifecycle_plugin', False, 'no entry point %s in group %s (is valet-openstack '
                         'installed in this Python?)' % (HEAT_EP_NAME, HEAT_EP_GROUP))
        elif problem:
            report.check('lifecycle_plugin', False, problem)
        else:
            report.check('lifecycle_plugin', cls in used,
                         '%s = %s; %s by Heat\'s lifecycle_plugin_utils' % (
                             HEAT_EP_NAME, eps[0].value, 'used' if cls in used else 'NOT used'))
    else:
        left = []
        if eps:
            left.append('entry point %s = %s still installed' % (HEAT_EP_NAME, eps[0].value))
        if ours:
            left.append('Heat still uses %s' % ', '.join('%s.%s' % (c.__module__, c.__name__) for c in ours))
        report.check('lifecycle_plugin', not left,
                     '; '.join(left) or 'no %s entry point, Heat uses no Valet lifecycle plugin' % HEAT_EP_NAME)


def _nova_opt(name):
    try:
        from nova.conf import scheduler
        for opt in scheduler.filter_scheduler_opts:
            if opt.name == name:
                return opt
    except (ImportError, AttributeError):
        pass
    from oslo_config import cfg
    return cfg.CONF._get_opt_info(name, 'filter_scheduler')['opt']


def probe_nova(args, report, collector):
    present = args['expect'] == 'present'
    import nova.conf
    from nova import config as nova_config
    CONF = nova.conf.CONF
    try:
        from nova import version
        report.data['version'] = version.version_string()
    except Exception:
        pass

    try:
        try:  # what nova-scheduler does, minus the DB and RPC set-up
            nova_config.parse_args(['nova-scheduler'], default_config_files=[args['config_file']],
                                   configure_db=False, init_rpc=False)
        except TypeError:  # a Nova without those keywords
            from oslo_log import log as oslo_log
            oslo_log.register_options(CONF)
            _load_config(CONF, 'nova', 'nova-scheduler', args['config_file'])
    except Exception as exc:
        return report.check('config', False, '%s: %s' % (args['config_file'], _config_error(exc)))
    report.check('config', True, 'loaded %s with Nova %s' % (args['config_file'], report.data['version']))
    report.data['info_logged'] = _info_enabled(CONF, START_LOGGER['nova'])

    if args['option_style'] == 'legacy':
        missing = []
        for new, old in sorted(NOVA_LEGACY.items()):
            names = [(d.name, d.group) for d in _nova_opt(new).deprecated_opts]
            if (old, 'DEFAULT') not in names:
                missing.append('[DEFAULT] %s' % old)
        report.check('legacy_names', not missing,
                     'Nova %s no longer reads %s: use option_style=modern ([filter_scheduler])'
                     % (report.data['version'], ', '.join(missing)) if missing else
                     'Nova %s maps [DEFAULT] %s to [filter_scheduler]'
                     % (report.data['version'], ' / '.join(sorted(NOVA_LEGACY.values()))))

    available = list(CONF.filter_scheduler.available_filters)
    enabled = list(CONF.filter_scheduler.enabled_filters)
    if present:
        report.check('available_filters', NOVA_FILTER_PATH in available,
                     '%s %s available_filters %s' % (
                         NOVA_FILTER_PATH, 'in' if NOVA_FILTER_PATH in available else 'NOT in', available))
        last = bool(enabled) and enabled[-1] == NOVA_FILTER_NAME
        report.check('enabled_filters', last, '%s %s enabled_filters %s' % (
            NOVA_FILTER_NAME, 'is last in' if last else
            ('is not last in' if NOVA_FILTER_NAME in enabled else 'NOT in'), enabled))
    else:
        report.check('available_filters', NOVA_FILTER_PATH not in available,
                     'available_filters %s' % available)
        report.check('enabled_filters', NOVA_FILTER_NAME not in enabled,
                     'enabled_filters %s' % enabled)

    _check_filter_handler(report, present, available, enabled)
    return True


def _check_filter_handler(report, present, available, enabled):
    # nova.scheduler.host_manager.HostManager.__init__ does exactly this; any failure
    # here is a nova-scheduler that dies at start.
    from nova.scheduler import filters
    try:
        classes = filters.HostFilterHandler().get_matching_classes(available)
    except Exception as exc:
        return report.check('filter_handler', False,
                            'HostFilterHandler cannot load available_filters (nova-scheduler would die): %s'
                            % _config_error(exc))
    by_name = {cls.__name__: cls for cls in classes}
    unknown = [name for name in enabled if name not in by_name]
    if unknown:
        return report.check('filter_handler', False,
                            'SchedulerHostFilterNotFound: %s enabled but not available '
                            '(nova-scheduler would die)' % ', '.join(unknown))
    for name in enabled:
        try:
            by_name[name]()
        except Exception as exc:
            return report.check('filter_handler', False, 'filter %s fails to initialise: %s'
                                % (name, _config_error(exc)))
    cls = by_name.get(NOVA_FILTER_NAME)
    if present:
        ok = cls is not None and '%s.%s' % (cls.__module__, cls.__name__) == NOVA_FILTER_PATH
        detail = ('%s loaded from %s' % (NOVA_FILTER_PATH, sys.modules[cls.__module__].__file__)
                  if ok else '%s not among the classes Nova loads' % NOVA_FILTER_PATH)
    else:
        ok = cls is None
        detail = 'Nova loads %d filter classes, %s' % (
            len(by_name), 'including %s' % NOVA_FILTER_NAME if cls else 'none of them Valet\'s')
    return report.check('filter_handler', ok, detail + '; all %d enabled filters resolve' % len(enabled))


def main(argv):
    args = json.loads(argv[1])
    sys.dont_write_bytecode = True  # we only read: leave no __pycache__ in plugin_dirs
    report = _Report(args['component'])
    # Only our JSON goes to stdout: anything the service code prints goes to stderr.
    out, sys.stdout = sys.stdout, sys.stderr
    collector = _Collector()
    logging.getLogger().addHandler(collector)
    try:
        if args['component'] == 'heat':
            probe_heat(args, report, collector)
        else:
            probe_nova(args, report, collector)
    except ImportError as exc:
        report.check('import', False, '%s cannot import %s code: %s' % (
            sys.executable, args['component'], exc))
    except Exception:
        report.check('probe', False, 'probe crashed: %s' % traceback.format_exc(limit=5))
    sys.stdout = out
    out.write(json.dumps(report.data) + '\n')


if __name__ == '__main__':
    main(sys.argv)
