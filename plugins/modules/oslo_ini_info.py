#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: oslo_ini_info
short_description: Syntax-check an oslo.config INI file and read chosen options
version_added: 1.0.0
description:
  - 'Parses the file with the same rules as oslo.config and fails with C(<path>: line N: <reason>) on a
    syntax error, or C(<path> does not exist) when it is missing.'
  - Returns only the options asked for (configuration files hold passwords).
  - 'The result key C(values) holds, for each requested option, every value it has in the file, in file
    order (one for a normal option, several for a duplicated or multi-valued one, none when absent; list
    values are the raw strings), for example C({"filter_scheduler/enabled_filters": ["ComputeFilter,ValetFilter"]}).
    Read it as C(result["values"]): C(result.values) is the dict method in Jinja.'
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
    msg: "{{ nova_filters['values']['filter_scheduler/enabled_filters'] }}"

- name: Check the Heat configuration parses
  valet.openstack.oslo_ini_info:
    path: /etc/heat/heat.conf
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
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import (
    IniError, decode, read_values)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            options=dict(type='list', elements='str', default=[]),
            missing_ok=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    if not os.path.exists(path):
        if module.params['missing_ok']:
            module.exit_json(changed=False, exists=False, sections=[], values={})
        module.fail_json(msg='%s does not exist' % path)
    try:
        with open(path, 'rb') as handle:
            text = decode(handle.read())
        sections, values = read_values(text, path, module.params['options'])
    except (IniError, IOError, OSError) as exc:
        module.fail_json(msg=to_native(exc))
    module.exit_json(changed=False, exists=True, sections=sections, values=values)


if __name__ == '__main__':
    main()
