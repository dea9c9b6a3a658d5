#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: valet_verify
short_description: Prove that Heat or Nova really loads the Valet plugins
version_added: 1.0.0
description:
  - Runs a probe in the interpreter of the service (Heat or Nova may live in the system Python
    or in a virtualenv, not the Python running Ansible). The probe loads the service configuration
    with the service's own oslo.config options and the plugin loading the service does at start.
  - For Heat it checks that C(ATT::Valet::GroupAssignment) is in the global resource registry, that
    C(stack_scheduler_hints) is true, that the C(valet.lifecycle_plugin) entry point is a
    LifecyclePlugin that Heat's lifecycle plugin utilities use (legacy engine), and that loading it
    installed the hook into Heat's convergence traversal (convergence engine); a Heat release
    whose traversal the hook does not support fails, naming the Heat version.
  - After a restart, heat-engine's own log must show that the running engine installed the hook.
  - For Nova it checks that C(valet_os.nova.valet_filter.ValetFilter) is in C(available_filters),
    last in C(enabled_filters), and that Nova's host filter handler loads every enabled filter
    (what nova-scheduler does at start).
  - Then it waits up to O(settle_timeout) seconds for the service process to run and to log its
    start, and fails on any error line about Valet logged since O(log_offset).
  - Every process of the service must have started after the config files last changed (their
    ctime), because a process started before runs the configuration as it was then, whatever the files say.
  - With O(expect=absent) it proves an uninstall left nothing registered and the service still starts.
  - The module only reads; it never returns values from the configuration other than the checked options.
  - With O(components) one call verifies several components of the host in turn (a module call costs
    about a second over a remote connection), for example a host that runs both heat-engine and nova-scheduler.
author:
  - Valet OpenStack collection contributors (@valet-openstack)
options:
  component:
    description:
      - Which service to verify. Exactly one of O(component) and O(components) is required.
    type: str
    choices: [heat, nova]
  components:
    description:
      - The services to verify in one call, each with its own O(component), O(config_file),
        O(service_name), O(log_file) and O(log_offset) (same meanings and defaults as the top-level options,
        which then do not apply); the other options apply to every one.
      - The module fails if any of them fails, and returns each one's result in RV(components).
    type: list
    elements: dict
    suboptions:
      component:
        description: Which service to verify.
        type: str
        required: true
        choices: [heat, nova]
      config_file:
        description: As O(config_file).
        type: path
      service_name:
        description: As O(service_name).
        type: str
      log_file:
        description: As O(log_file).
        type: path
      log_offset:
        description: As O(log_offset).
        type: int
        default: 0
  config_file:
    description:
      - Service configuration file. A C(<config_file>.d) directory next to it is read too.
      - Defaults to C(/etc/heat/heat.conf) or C(/etc/nova/nova.conf).
    type: path
  python:
    description: Interpreter the service runs with (it must import C(heat) or C(nova)).
    type: path
    default: /usr/bin/python3
  service_name:
    description:
      - Program name to look for in C(/proc/*/cmdline).
      - Defaults to C(heat-engine) or C(nova-scheduler).
    type: str
  log_file:
    description:
      - Service log file. Defaults to C(/var/log/heat/heat-engine.log) or C(/var/log/nova/nova-scheduler.log).
      - Set to an empty string to skip the log checks (service logging elsewhere).
    type: path
  log_offset:
    description:
      - Byte offset in O(log_file) where the examined part starts, normally the file size recorded
        just before the service was restarted. If the file is now shorter (rotated), it is read from the start.
    type: int
    default: 0
  expect:
    description: V(present) after install, V(absent) after uninstall.
    type: str
    choices: [present, absent]
    default: present
  check_process:
    description: Whether to check the process and its log (false to verify the configuration alone).
    type: bool
    default: true
  settle_timeout:
    description:
      - Seconds to keep re-checking the process and the log until the service has started.
      - The module returns as soon as the service is up or an error line shows up.
    type: int
    default: 60
  proof_cache:
    description:
      - JSON file where a passed verification with O(expect=present) is recorded, per component, as a
        digest of what it depends on (the service's Python, the bytes and change times of the config file
        and of the C(.conf) files of C(<config_file>.d), and the running service processes with their
        start times).
      - When O(log_file) is empty (no restart to read about) and the record still matches the host, the
        module reports that earlier proof (check C(proof)) instead of running the probe again, since the
        same processes were proven to have Valet registered and nothing they read has changed since.
        An edit, a restart or a respawned worker makes the next run prove again.
      - With O(expect=absent) a passed verification removes the component's record.
      - Not written in check mode. Unset (the default), nothing is recorded or reused.
    type: path
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same checks in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Linux hosts (it reads C(/proc)) running Heat or Nova.
notes:
  - The probe needs only the service's own Python packages; C(psutil) or C(pgrep) are not used.
'''

EXAMPLES = r'''
- name: Verify Heat registered Valet (Heat in a virtualenv)
  valet.openstack.valet_verify:
    component: heat
    python: /opt/heat/bin/python
    log_offset: "{{ heat_log_size_before_restart }}"

- name: Verify nova-scheduler loads ValetFilter, allowing it two minutes to start
  valet.openstack.valet_verify:
    component: nova
    settle_timeout: 120

- name: Verify a steady host, reusing the last proof while config and processes are unchanged
  valet.openstack.valet_verify:
    component: heat
    log_file: ""
    proof_cache: /var/lib/valet_openstack/verified.json

- name: Verify both services of a steady host in one call, no restart so no log check
  valet.openstack.valet_verify:
    components:
      - {component: heat, log_file: ""}
      - {component: nova, log_file: ""}
    proof_cache: /var/lib/valet_openstack/verified.json

- name: Verify the uninstall left nothing behind
  valet.openstack.valet_verify:
    component: nova
    expect: absent
'''

RETURN = r'''
ok:
  description: Whether every check passed (the module fails otherwise).
  returned: always
  type: bool
component:
  description: The verified component.
  returned: with O(component)
  type: str
  sample: heat
version:
  description: Version of the installed service package, as the service reports it.
  returned: with O(component), when the probe could import the service
  type: str
  sample: 27.0.1
checks:
  description: Each check with its result and a human-readable detail.
  returned: with O(component)
  type: list
  elements: dict
  contains:
    name:
      description: Check name (config, stack_scheduler_hints, resource_registry, lifecycle_plugin,
        convergence_hook, available_filters, enabled_filters, filter_handler, process, process_current,
        log_errors, log_started,
        log_registered, log_convergence_hook; import or probe when the service code could not be run; proof
        alone when an earlier proof was reused, see O(proof_cache)).
      type: str
    ok:
      description: Result.
      type: bool
    detail:
      description: What was found, with file paths.
      type: str
  sample:
    - name: resource_registry
      ok: true
      detail: "ATT::Valet::GroupAssignment registered by heat.engine.plugins.GroupAssignment"
stale:
  description:
    - Whether the service runs an older configuration than its files (check C(process_current) failed),
      so that a restart is what it needs.
  returned: with O(component), when the checks ran
  type: bool
components:
  description:
    - With O(components), the result of each, in order, as the top-level keys of a one-component call
      (RV(component), RV(version), RV(checks), RV(ok), RV(stale), RV(msg)).
  returned: with O(components)
  type: list
  elements: dict
  sample:
    - component: heat
      version: 27.0.1
      ok: true
      msg: "heat 27.0.1: registration proven at 2026-11-26T10:00:00Z still holds (nothing it depends on changed)"
      checks:
        - name: proof
          ok: true
          detail: "proven at 2026-11-26T10:00:00Z (9 checks passed with heat's own code) and unchanged since: ..."
msg:
  description: Summary; on failure the failed checks and why. With O(components), each one's, joined by C( | ).
  returned: always
  type: str
'''

import datetime
import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.valet.openstack.plugins.module_utils import valet_probe

DEFAULTS = {
    'heat': {
        'config_file': '/etc/heat/heat.conf',
        'service_name': 'heat-engine',
        'log_file': '/var/log/heat/heat-engine.log',
    },
    'nova': {
        'config_file': '/etc/nova/nova.conf',
        'service_name': 'nova-scheduler',
        'log_file': '/var/log/nova/nova-scheduler.log',
    },
}


def run_probe(module, params):
    args = {k: params[k] for k in ('component', 'config_file', 'expect')}
    # The module only reads: no __pycache__ left in plugin_dirs by the imports Heat does for us.
    rc, out, err = module.run_command(
        [params['python'], '-c', valet_probe.probe_source(), json.dumps(args)],
        environ_update={'PYTHONDONTWRITEBYTECODE': '1'},
    )
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = ' '.join(err.strip().splitlines()[-3:])
        return {
            'checks': [
                {
                    'name': 'probe',
                    'ok': False,
                    'detail': '%s exited %d without a report: %s' % (params['python'], rc, tail),
                }
            ]
        }


# Options that name the component and where it runs; the others apply to every component.
PER_COMPONENT = {
    'component': dict(type='str', required=True, choices=['heat', 'nova']),
    'config_file': dict(type='path'),
    'service_name': dict(type='str'),
    'log_file': dict(type='path'),
    'log_offset': dict(type='int', default=0),
}


def main():
    argument_spec = dict(
        PER_COMPONENT,
        component=dict(type='str', choices=['heat', 'nova']),
        components=dict(type='list', elements='dict', options=PER_COMPONENT),
        python=dict(type='path', default='/usr/bin/python3'),
        expect=dict(type='str', default='present', choices=['present', 'absent']),
        check_process=dict(type='bool', default=True),
        settle_timeout=dict(type='int', default=60),
        proof_cache=dict(type='path'),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('component', 'components')],
        required_one_of=[('component', 'components')],
        supports_check_mode=True,
    )
    shared = {k: v for k, v in module.params.items() if k not in PER_COMPONENT and k != 'components'}
    items = module.params['components'] or [{k: module.params[k] for k in PER_COMPONENT}]
    proofs = valet_probe.read_proofs(shared['proof_cache']) if shared['proof_cache'] else {}
    results = []
    for item in items:
        params = dict(shared, **item)
        for key, value in DEFAULTS[params['component']].items():
            if params[key] is None:
                params[key] = value
        results.append(verify(module, params, proofs))

    if module.params['components'] is None:
        result = results[0]
    else:
        result = {
            'components': results,
            'ok': all(r['ok'] for r in results),
            'msg': ' | '.join(r['msg'] for r in results),
        }
    if not result['ok']:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


def verify(module, params, proofs):
    """Verify one component: its result, with ok and msg. A pass updates the proof_cache record."""
    result = {'component': params['component'], 'version': None, 'checks': []}
    reusable = (
        params['proof_cache']
        and params['expect'] == 'present'
        and params['check_process']
        and not params['log_file']
        and os.path.isfile(params['config_file'])
    )
    before = valet_probe.fingerprint(params) if reusable else None
    record = proofs.get(params['component']) or {}
    if before is not None and record.get('fingerprint') == before:
        result['version'] = record.get('version')
        result['checks'] = [
            {
                'name': 'proof',
                'ok': True,
                'detail': (
                    'proven at %s (%d checks passed with %s\'s own code) and unchanged since: same config files, '
                    'same %s processes; proof_cache %s'
                    % (
                        record.get('proven_at'),
                        record.get('checks', 0),
                        params['component'],
                        params['service_name'],
                        params['proof_cache'],
                    )
                ),
            }
        ]
        result['ok'] = True
        result['msg'] = '%s %s: registration proven at %s still holds (nothing it depends on changed)' % (
            params['component'],
            result['version'],
            record.get('proven_at'),
        )
        return result

    if not os.path.isfile(params['config_file']):
        result['checks'].append({'name': 'config', 'ok': False, 'detail': '%s does not exist' % params['config_file']})
    elif not os.access(params['python'], os.X_OK):
        result['checks'].append(
            {'name': 'probe', 'ok': False, 'detail': 'python %s is not an executable' % params['python']}
        )
    else:
        report = run_probe(module, params)
        result['version'] = report.get('version')
        result['checks'] = report['checks']
        if params['check_process']:
            result['checks'] += valet_probe.watch_service(params, report.get('info_logged'))

    failed = [c for c in result['checks'] if not c['ok']]
    result['ok'] = not failed
    result['stale'] = any(c['name'] == 'process_current' for c in failed)
    if failed:
        why = '; '.join('%s: %s' % (c['name'], c['detail']) for c in failed)
        result['msg'] = '%s verification failed (%s, python %s, expect=%s): %s' % (
            params['component'],
            params['config_file'],
            params['python'],
            params['expect'],
            why,
        )
        return result
    result['msg'] = '%s %s: all %d checks passed (expect=%s)' % (
        params['component'],
        result['version'],
        len(result['checks']),
        params['expect'],
    )
    if params['proof_cache'] and not module.check_mode:
        remember(params, proofs, result)
    return result


def remember(params, proofs, result):
    """Record a passed proof of a running service (present), or forget the component (absent)."""
    after = valet_probe.fingerprint(params) if params['expect'] == 'present' and params['check_process'] else None
    if after is None:
        proofs.pop(params['component'], None)
    else:
        proofs[params['component']] = {
            'fingerprint': after,
            'version': result['version'],
            'checks': len(result['checks']),
            'proven_at': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        }
    valet_probe.write_proofs(params['proof_cache'], proofs)


if __name__ == '__main__':
    main()
