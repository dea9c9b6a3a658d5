# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: osa_vars
short_description: Map what Valet writes onto openstack-ansible's os_nova / os_heat variables
version_added: 1.3.0
description:
  - Takes the list of what Valet writes (C(valet_openstack_conf), C(roles/valet_openstack/vars/main/valet_conf.yml))
    and returns the openstack-ansible variables of one component that make os_nova or os_heat render it, merged
    with the operator's own values of the same variables.
  - A scalar goes into C(<component>_<component>_conf_overrides) (the C([valet]) section, C(stack_scheduler_hints)).
    An entry with an empty value is not set.
  - A list member goes into the list variable os_nova / os_heat renders the option from. Nova's
    C(enabled_filters) is os_nova's default list (plus Blazar's) followed by C(nova_scheduler_extra_filters), so
    the member is appended there; Heat's C(plugin_dirs) is C(heat_plugin_dirs) joined, so the member is appended to
    the operator's list, or to the entry's C(default) (os_heat's default).
  - A multi-valued line (Nova's C(available_filters)) goes into the conf overrides as a set (a dict whose values
    are all empty, which config_template writes as one line per key). A conf override replaces the lines of the
    role's template, so the lines the template would write come first - the operator's, or else O(template_lines),
    an expression openstack-ansible evaluates on each host.
  - The package goes into C(<component>_user_pip_packages).
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  _input:
    description: The list of what Valet writes, with its inputs given (C(valet_openstack_conf)).
    type: dict
    required: true
  component:
    description: Which component's variables.
    type: str
    choices: [nova, heat]
    required: true
  pip_package:
    description: The pip requirement of the plugin package.
    type: str
    required: true
  merge:
    description: The operator's own values of the variables returned; Valet's are added to them.
    type: dict
    default: {}
  template_lines:
    description:
      - For each multi-valued option, as C(section/option), a Jinja expression openstack-ansible evaluates to the
        list of lines the role's template writes for it (used when O(merge) does not set the option).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: The os_nova variables for the nova-scheduler group
  ansible.builtin.copy:
    dest: /etc/openstack_deploy/group_vars/nova_scheduler/valet_openstack.yml
    content: >-
      {{ valet_openstack_conf | valet.openstack.osa_vars(component='nova', pip_package='valet-openstack==1.3.0')
         | to_nice_yaml }}
'''

RETURN = r'''
_value:
  description: The openstack-ansible variables, by name.
  type: dict
  sample:
    nova_user_pip_packages: [valet-openstack==1.3.0]
    nova_scheduler_extra_filters: [ValetFilter]
    nova_nova_conf_overrides:
      filter_scheduler:
        available_filters: "{{ dict(([...]) | union([...ValetFilter]) | product([none])) }}"
      valet: {url: 'http://valet-api:8090/v1'}
'''

import copy

from ansible.errors import AnsibleFilterError

# (component, section, option) of a list option -> (the variable the role renders it from, whether that variable
# is the whole list (True) or only what follows the role's own members (False)).
LIST_VARS = {
    ('nova', 'filter_scheduler', 'enabled_filters'): ('nova_scheduler_extra_filters', False),
    ('heat', 'DEFAULT', 'plugin_dirs'): ('heat_plugin_dirs', True),
}
SECTIONS = {'nova': ('nova',), 'heat': ('heat',)}


def _empty(value):
    return value is None or value == ''


def _combine(base, extra):
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _combine(out[key], value)
        else:
            out[key] = value
    return out


def _append(members, value):
    return [m for m in members if m != value] + [value]


def _lines_expr(lines_expr, value):
    return '{{ dict((%s) | union([%r]) | product([none])) }}' % (lines_expr, value)


def osa_vars(conf, component, pip_package, merge=None, template_lines=None):
    if component not in SECTIONS:
        raise AnsibleFilterError('osa_vars: component must be nova or heat, got %r' % (component,))
    if not isinstance(conf, dict) or component not in conf or 'valet' not in conf:
        raise AnsibleFilterError('osa_vars expects the data of what Valet writes (keys %s and valet)' % component)
    if not pip_package:
        raise AnsibleFilterError('osa_vars: pip_package must not be empty')
    merge = dict(merge or {})
    template_lines = template_lines or {}
    conf_var = '%s_%s_conf_overrides' % (component, component)
    pip_var = '%s_user_pip_packages' % component
    operator_conf = merge.get(conf_var) or {}
    if not isinstance(operator_conf, dict):
        raise AnsibleFilterError('osa_vars: the operator\'s %s must be a mapping' % conf_var)

    out = {pip_var: _append(list(merge.get(pip_var) or []), pip_package)}
    ours = {}
    entries = list(conf[component]) + list(conf['valet']) + list(conf.get('password') or [])
    for entry in entries:
        section, option, value = entry['section'], entry['option'], entry.get('value')
        kind = entry.get('kind', 'scalar')
        if _empty(value) or entry.get('state') == 'absent':
            continue
        if kind == 'list':
            if (component, section, option) not in LIST_VARS:
                raise AnsibleFilterError(
                    'osa_vars: no openstack-ansible variable renders %s [%s] %s' % (component, section, option)
                )
            name, whole = LIST_VARS[(component, section, option)]
            start = merge.get(name)
            if start is None:
                start = (entry.get('default') or []) if whole else []
            out[name] = _append(list(start), value)
        elif kind == 'multi':
            given = (operator_conf.get(section) or {}).get(option)
            if isinstance(given, dict):
                lines = _append(list(given), value)
                ours.setdefault(section, {})[option] = dict((line, None) for line in lines)
            elif given is not None:
                raise AnsibleFilterError(
                    'osa_vars: the operator\'s %s.%s.%s must be a set (a dict of empty values)'
                    % (conf_var, section, option)
                )
            else:
                key = '%s/%s' % (section, option)
                if key in template_lines:
                    ours.setdefault(section, {})[option] = _lines_expr(template_lines[key], value)
                else:
                    lines = _append(list(entry.get('default') or []), value)
                    ours.setdefault(section, {})[option] = dict((line, None) for line in lines)
        else:
            ours.setdefault(section, {})[option] = value
    out[conf_var] = _combine(operator_conf, ours)
    for name, value in merge.items():
        out.setdefault(name, value)
    return out


class FilterModule(object):
    def filters(self):
        return {'osa_vars': osa_vars}
