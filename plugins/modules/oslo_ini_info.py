#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: oslo_ini_info
short_description: Syntax-check an oslo.config INI file and read chosen options
version_added: 1.0.0
description:
  - 'Parses the file with the same rules as oslo.config and fails with C(<path>: line N: <reason>) on a
    syntax error, or C(<path> does not exist) when it is missing.'
  - Returns only the options asked for (configuration files hold passwords); the values of credential-like
    options (names containing C(password), C(secret), C(token), C(connection), C(transport_url), or ending in
    C(_key)) and of the options of secret O(edits) are masked.
  - Given O(edits) (as M(valet.openstack.oslo_ini) takes them) and the O(ledger), says which of them would
    change the file, without changing anything (a read-only plan for a rollout).
  - The result key C(values) is a deprecated copy of RV(option_values), kept for playbooks written for
    release 1.1 and removed in release 2.0.0 (a return key named like a dict method cannot be documented
    as one, and C(result.values) is the dict method in Jinja).
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  path:
    description: Path of the oslo.config file.
    type: path
    required: true
  options:
    description: Options to return, each as C(section/option).
    type: list
    elements: str
    default: []
  missing_ok:
    description: When true a missing file is not an error; RV(exists) is then false.
    type: bool
    default: false
  edits:
    description:
      - Edits to try on a copy of the text, with the same suboptions as O(valet.openstack.oslo_ini#module:edits).
    type: list
    elements: dict
    default: []
    suboptions:
      section:
        description: Section name.
        type: str
        required: true
      option:
        description: Option name.
        type: str
        required: true
      value:
        description: The value, list member or line. For a secret edit without a value, O(secret_value).
        type: str
      kind:
        description: V(scalar), V(list) or V(multi).
        type: str
        choices: [scalar, list, multi]
      state:
        description: V(present) (the default) or V(absent).
        type: str
        choices: [present, absent]
      position:
        description: V(any) or V(last) (lists).
        type: str
        choices: [any, last]
      default:
        description: Members or lines the option implicitly has while absent.
        type: list
        elements: str
      secret:
        description:
          - The value is a secret. With O(edits[].state=present), a file readable by others fails (as
            M(valet.openstack.oslo_ini) would).
        type: bool
        default: false
  literal:
    description: As O(valet.openstack.oslo_ini#module:literal).
    type: bool
    default: true
  writable:
    description:
      - When O(edits) would change the file, also fail unless its directory (a symlink's target's) takes the
        new file (a temporary file can be created there, and the file system has room for it).
    type: bool
    default: false
  secret_value:
    description: The value of the secret edits that give none.
    type: str
  ledger:
    description: The ledger M(valet.openstack.oslo_ini) keeps, read to know what is ours.
    type: path
    default: /var/lib/valet_openstack/ini_ledger.json
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Read Nova's scheduler filters
  valet.openstack.oslo_ini_info:
    path: /etc/nova/nova.conf
    options:
      - filter_scheduler/enabled_filters
      - filter_scheduler/available_filters
  register: nova_filters

- name: Show the enabled filters
  ansible.builtin.debug:
    msg: "{{ nova_filters.option_values['filter_scheduler/enabled_filters'] }}"

- name: Check the Heat configuration parses
  valet.openstack.oslo_ini_info:
    path: /etc/heat/heat.conf

- name: Would Valet's heat.conf edits change anything?
  valet.openstack.oslo_ini_info:
    path: /etc/heat/heat.conf
    edits:
      - {section: DEFAULT, option: stack_scheduler_hints, value: "True"}
  register: heat_plan  # heat_plan.pending lists the edits that would change the file
'''

RETURN = r'''
exists:
  description: Whether the file exists.
  returned: always
  type: bool
  sample: true
sections:
  description: Section names, in file order, each once.
  returned: always
  type: list
  elements: str
  sample: [DEFAULT, filter_scheduler]
option_values:
  description:
    - For each option in O(options), every value it has in the file, in file order - one for a normal
      option, several for a duplicated or multi-valued one, none when it is absent. List values are the
      raw strings.
  returned: always
  type: dict
  sample: {"filter_scheduler/enabled_filters": ["ComputeFilter,ValetFilter"]}
pending:
  description: The O(edits) that would change the file, each as C(section/option), in order.
  returned: always
  type: list
  elements: str
  sample: ["filter_scheduler/enabled_filters"]
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import EDIT_SPEC
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import MASK
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import SENSITIVE_KEY_RE
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import IniError
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import apply_changes
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import check_secret_mode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import check_writable
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import decode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import edit_list
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import encode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import load_ledger
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import mask
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import read_values


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            options=dict(type='list', elements='str', default=[]),
            missing_ok=dict(type='bool', default=False),
            edits=dict(type='list', elements='dict', options=EDIT_SPEC, default=[]),
            secret_value=dict(type='str', no_log=True),
            ledger=dict(type='path', default='/var/lib/valet_openstack/ini_ledger.json'),
            literal=dict(type='bool', default=True),
            writable=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    if not os.path.exists(path):
        if params['missing_ok']:
            module.exit_json(changed=False, exists=False, sections=[], option_values={}, values={}, pending=[])
        module.fail_json(msg='%s does not exist' % path)
    edits = edit_list(params) if params['edits'] else []
    try:
        if os.path.isdir(path):
            raise IniError('%s is a directory, not a config file' % path)
        with open(path, 'rb') as handle:
            text = decode(handle.read())
        sections, values = read_values(text, path, params['options'])
        secret = set('%s/%s' % (e['section'], e['option']) for e in edits if e['secret'])
        for name in values:
            if name in secret or SENSITIVE_KEY_RE.search(name.rsplit('/', 1)[-1]):
                values[name] = [MASK for _v in values[name]]
        pending = []
        if edits:
            ledger = load_ledger(params['ledger'])
            new_text, _fled, results = apply_changes(text, path, edits, ledger['files'].get(os.path.abspath(path)))
            pending = ['%s/%s' % (r['section'], r['option']) for r in results if r['changed']]
            check_secret_mode(path, edits)
            if pending and params['writable']:
                check_writable(path, len(encode(new_text)))
    except (IniError, IOError, OSError) as exc:
        module.fail_json(msg=mask(to_native(exc), [params['secret_value']]))
    module.exit_json(
        changed=False, exists=True, sections=sections, option_values=values, values=values, pending=pending
    )


if __name__ == '__main__':
    main()
