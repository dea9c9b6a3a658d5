# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counts, per host, the tasks that ran and the modules they invoked (benchmarks/rollout.sh).

A task "ran" on a host when it was not skipped there. A module invocation is one execution of a
module on a host (one per loop item); tasks handled by the controller alone (assert, fail, debug,
set_fact, group_by, meta, includes, argument-spec validation) invoke none. Delegated invocations
are counted for the host they ran for, and also as "delegated". Tasks of the valet_keystone role are
counted apart ("keystone_tasks", "keystone_modules"): a controller that is also the Keystone host
runs them once for the whole cloud. Written to $VALET_BENCH_COUNTS.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: valet_bench
type: aggregate
short_description: Count tasks and module invocations per host (benchmarks only)
description:
  - Writes a JSON file (environment variable C(VALET_BENCH_COUNTS)) with, per host, the tasks that ran,
    were skipped, changed, and the module invocations.
requirements:
  - enable in the callbacks_enabled setting
'''

import json
import os

from ansible.plugins.callback import CallbackBase

CONTROLLER_ONLY = {
    'assert',
    'fail',
    'debug',
    'set_fact',
    'group_by',
    'add_host',
    'meta',
    'include_tasks',
    'import_tasks',
    'include_role',
    'import_role',
    'include_vars',
    'validate_argument_spec',
    'set_stats',
}


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'valet_bench'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.hosts = {}

    def _host(self, name):
        return self.hosts.setdefault(
            name,
            {
                'tasks': 0,
                'skipped': 0,
                'changed': 0,
                'failed': 0,
                'modules': 0,
                'delegated': 0,
                'keystone_tasks': 0,
                'keystone_modules': 0,
                'invocations': [],
            },
        )

    def _count(self, result, failed=False):
        counts = self._host(result._host.get_name())
        res = result._result
        role = result._task._role.get_name() if result._task._role else ''
        if role.endswith('valet_keystone'):
            counts['keystone_tasks'] += 1
            counts['keystone_modules'] += 0 if result._task.action.split('.')[-1] in CONTROLLER_ONLY else 1
            return
        counts['tasks'] += 1
        counts['changed'] += int(bool(res.get('changed')))
        counts['failed'] += int(failed)
        action = result._task.action.split('.')[-1]
        if action in CONTROLLER_ONLY:
            return
        items = res.get('results')
        n = len([r for r in items if not r.get('skipped')]) if isinstance(items, list) else 1
        counts['modules'] += n
        counts['invocations'].append('%s x%d' % (result._task.get_name(), n))
        if result._task.delegate_to:
            counts['delegated'] += n

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, failed=not ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._host(result._host.get_name())['skipped'] += 1

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('VALET_BENCH_COUNTS')
        if path:
            with open(path, 'w') as handle:
                json.dump(self.hosts, handle, indent=1, sort_keys=True)
