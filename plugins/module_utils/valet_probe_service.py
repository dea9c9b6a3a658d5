# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe of valet.openstack.valet_verify, run in the service's own Python.

valet_verify sends this file's *source text* to the interpreter Heat or Nova runs with
(``python -c <this file> <json args>``), which may not be the Python running Ansible
(Debian's /usr/bin/python3 with Heat/Nova from packages, or a venv). There main() loads
the service config with the service's own oslo.config options and the same plugin loading
the service does at start, and prints one JSON document.

So: standard library only at module level (tests/unit/plugins/module_utils/
test_valet_probe_service.py enforces it), Python 3.8+, Heat/Nova imported inside the
functions, and nothing from the config is printed except the options checked (no secrets).
The host-side checks (process, log) are in valet_probe.py.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import json
import logging
import os
import re
import sys
import traceback

HEAT_RESOURCE = 'ATT::Valet::GroupAssignment'
HEAT_EP_GROUP = 'heat.stack_lifecycle_plugins'
HEAT_EP_NAME = 'valet.lifecycle_plugin'
NOVA_FILTER_PATH = 'valet_os.nova.valet_filter.ValetFilter'
NOVA_FILTER_NAME = 'ValetFilter'

# Loggers whose INFO lines tell that the service came up (valet_probe.START_LINE):
# whether the config logs them decides whether the host side waits for those lines.
START_LOGGER = {'heat': 'heat.engine.environment', 'nova': 'nova.service'}
# Set on Stack._converge_create_or_update by valet_os.heat.convergence when it wraps it.
HOOK_ATTR = '_valet_convergence_hook'
# A log line or loader warning about Valet (here: the warnings worth reporting).
VALET_MENTION = re.compile(
    r'valet|GroupAssignment|SchedulerHostFilterNotFound|plugin_dirs'
    r'|Failed to import',
    re.IGNORECASE,
)


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
        self.data = {'component': component, 'version': None, 'checks': [], 'info_logged': None}

    def check(self, name, ok, detail):
        self.data['checks'].append({'name': name, 'ok': bool(ok), 'detail': detail})
        return ok


def _without_quoted_value(exc):
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
    conf([], project=project, prog=prog, default_config_files=[config_file], default_config_dirs=dirs)


def probe_heat(args, report, collector):
    present = args['expect'] == 'present'
    from heat.common import config as heat_config  # noqa: F401  registers heat's options
    from oslo_config import cfg
    from oslo_log import log as oslo_log

    try:
        from heat import version

        report.data['version'] = version.version_info.version_string()
    except Exception:
        pass

    oslo_log.register_options(cfg.CONF)
    try:
        _load_config(cfg.CONF, 'heat', 'heat-engine', args['config_file'])
    except Exception as exc:
        return report.check('config', False, '%s: %s' % (args['config_file'], _without_quoted_value(exc)))
    report.check('config', True, 'loaded %s with Heat %s' % (args['config_file'], report.data['version']))
    report.data['info_logged'] = _info_enabled(cfg.CONF, START_LOGGER['heat'])

    hints = cfg.CONF.stack_scheduler_hints
    report.data['convergence_engine'] = cfg.CONF.convergence_engine
    if present:
        report.check('stack_scheduler_hints', hints is True, '[DEFAULT] stack_scheduler_hints = %s' % hints)
    else:  # the role restores whatever was there before: nothing to demand
        report.check(
            'stack_scheduler_hints', True, '[DEFAULT] stack_scheduler_hints = %s (not checked for absent)' % hints
        )

    # The same loading heat-engine does at start: entry points, plugin_dirs, environment.d
    from heat.engine import resources

    plugin_dirs = list(cfg.CONF.plugin_dirs)
    try:
        resources.initialise()
        env = resources.global_env()
    except Exception as exc:
        report.check(
            'resource_registry',
            False,
            'Heat failed to load its plugins (plugin_dirs=%s): %s; heat-engine would not start. %s'
            % (plugin_dirs, _without_quoted_value(exc), ' | '.join(collector.about_valet())),
        )
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
        return report.check(
            'convergence_hook',
            not hooked,
            'Heat %s: convergence hook %s' % (report.data['version'], 'still installed' if hooked else 'not installed'),
        )
    try:
        from valet_os.heat import convergence

        state = convergence.STATUS['state']
    except Exception as exc:
        state = 'valet_os.heat.convergence does not import: %s' % _without_quoted_value(exc)
    if hooked and state == 'active':
        return report.check(
            'convergence_hook', True, 'Heat %s: convergence hook active (%s engine)' % (report.data['version'], engine)
        )
    # Only stacks of the convergence engine need the hook; legacy ones use the lifecycle plugin.
    return report.check(
        'convergence_hook',
        engine == 'legacy',
        'Heat %s is not supported by the Valet convergence hook (%s): stacks of the '
        'convergence engine would get no Valet plan%s'
        % (report.data['version'], state, '' if engine == 'convergence' else '; the legacy engine is used here'),
    )


def _check_lifecycle(report, present):
    from heat.common import lifecycle_plugin_utils
    from heat.engine import lifecycle_plugin

    eps = [ep for ep in _entry_points(HEAT_EP_GROUP) if ep.name == HEAT_EP_NAME]
    cls, problem = None, None
    if eps:
        try:
            cls = eps[0].load()
        except Exception as exc:
            problem = 'entry point %s = %s does not load: %s' % (HEAT_EP_NAME, eps[0].value, _without_quoted_value(exc))
        else:
            if not (isinstance(cls, type) and issubclass(cls, lifecycle_plugin.LifecyclePlugin)):
                problem = '%s is not a heat LifecyclePlugin subclass' % eps[0].value
    # What Heat itself will call around stack operations (instantiates the plugins)
    used = [type(p) for p in lifecycle_plugin_utils.get_plug_point_class_instances()]
    ours = [c for c in used if c is cls or c.__module__.startswith('valet_os.')]

    if present:
        if not eps:
            report.check(
                'lifecycle_plugin',
                False,
                'no entry point %s in group %s (is valet-openstack '
                'installed in this Python?)' % (HEAT_EP_NAME, HEAT_EP_GROUP),
            )
        elif problem:
            report.check('lifecycle_plugin', False, problem)
        else:
            report.check(
                'lifecycle_plugin',
                cls in used,
                '%s = %s; %s by Heat\'s lifecycle_plugin_utils'
                % (HEAT_EP_NAME, eps[0].value, 'used' if cls in used else 'NOT used'),
            )
    else:
        left = []
        if eps:
            left.append('entry point %s = %s still installed' % (HEAT_EP_NAME, eps[0].value))
        if ours:
            left.append('Heat still uses %s' % ', '.join('%s.%s' % (c.__module__, c.__name__) for c in ours))
        report.check(
            'lifecycle_plugin',
            not left,
            '; '.join(left) or 'no %s entry point, Heat uses no Valet lifecycle plugin' % HEAT_EP_NAME,
        )


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
            nova_config.parse_args(
                ['nova-scheduler'], default_config_files=[args['config_file']], configure_db=False, init_rpc=False
            )
        except TypeError:  # a Nova without those keywords
            from oslo_log import log as oslo_log

            oslo_log.register_options(CONF)
            _load_config(CONF, 'nova', 'nova-scheduler', args['config_file'])
    except Exception as exc:
        return report.check('config', False, '%s: %s' % (args['config_file'], _without_quoted_value(exc)))
    report.check('config', True, 'loaded %s with Nova %s' % (args['config_file'], report.data['version']))
    report.data['info_logged'] = _info_enabled(CONF, START_LOGGER['nova'])

    available = list(CONF.filter_scheduler.available_filters)
    enabled = list(CONF.filter_scheduler.enabled_filters)
    if present:
        report.check(
            'available_filters',
            NOVA_FILTER_PATH in available,
            '%s %s available_filters %s'
            % (NOVA_FILTER_PATH, 'in' if NOVA_FILTER_PATH in available else 'NOT in', available),
        )
        last = bool(enabled) and enabled[-1] == NOVA_FILTER_NAME
        report.check(
            'enabled_filters',
            last,
            '%s %s enabled_filters %s'
            % (
                NOVA_FILTER_NAME,
                'is last in' if last else ('is not last in' if NOVA_FILTER_NAME in enabled else 'NOT in'),
                enabled,
            ),
        )
    else:
        report.check('available_filters', NOVA_FILTER_PATH not in available, 'available_filters %s' % available)
        report.check('enabled_filters', NOVA_FILTER_NAME not in enabled, 'enabled_filters %s' % enabled)

    _check_filter_handler(report, present, available, enabled)
    return True


def _check_filter_handler(report, present, available, enabled):
    # nova.scheduler.host_manager.HostManager.__init__ does exactly this; any failure
    # here is a nova-scheduler that dies at start.
    from nova.scheduler import filters

    try:
        classes = filters.HostFilterHandler().get_matching_classes(available)
    except Exception as exc:
        return report.check(
            'filter_handler',
            False,
            'HostFilterHandler cannot load available_filters (nova-scheduler would die): %s'
            % _without_quoted_value(exc),
        )
    by_name = {cls.__name__: cls for cls in classes}
    unknown = [name for name in enabled if name not in by_name]
    if unknown:
        return report.check(
            'filter_handler',
            False,
            'SchedulerHostFilterNotFound: %s enabled but not available (nova-scheduler would die)' % ', '.join(unknown),
        )
    for name in enabled:
        try:
            by_name[name]()
        except Exception as exc:
            return report.check(
                'filter_handler', False, 'filter %s fails to initialise: %s' % (name, _without_quoted_value(exc))
            )
    cls = by_name.get(NOVA_FILTER_NAME)
    if present:
        ok = cls is not None and '%s.%s' % (cls.__module__, cls.__name__) == NOVA_FILTER_PATH
        detail = (
            '%s loaded from %s' % (NOVA_FILTER_PATH, sys.modules[cls.__module__].__file__)
            if ok
            else '%s not among the classes Nova loads' % NOVA_FILTER_PATH
        )
    else:
        ok = cls is None
        detail = 'Nova loads %d filter classes, %s' % (
            len(by_name),
            'including %s' % NOVA_FILTER_NAME if cls else 'none of them Valet\'s',
        )
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
        report.check('import', False, '%s cannot import %s code: %s' % (sys.executable, args['component'], exc))
    except Exception:
        report.check('probe', False, 'probe crashed: %s' % traceback.format_exc(limit=5))
    sys.stdout = out
    out.write(json.dumps(report.data) + '\n')


if __name__ == '__main__':
    main(sys.argv)
