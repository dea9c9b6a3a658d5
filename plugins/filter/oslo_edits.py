# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: oslo_edits
short_description: Turn Valet's config data into valet.openstack.oslo_ini edits
version_added: 1.3.0
description:
  - Takes entries of the list of what Valet writes (C(roles/valet_openstack/vars/main/valet_conf.yml)), whose keys
    are M(valet.openstack.oslo_ini)'s edit keys, and returns the edits for one O(valet.openstack.oslo_ini#module:edits)
    call.
  - An entry whose value is empty is not set. A scalar becomes an absent edit (a value written before goes); a list
    member or a multi-valued line is dropped. A secret entry without a value takes the call's C(secret_value) when
    O(secret) is true and becomes an absent edit otherwise.
  - Every other entry is returned as it is.
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  _input:
    description: The entries.
    type: list
    elements: dict
    required: true
  secret:
    description: Whether the oslo_ini call gives a C(secret_value) for the secret entries without a value.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Write Valet's [valet] section into nova.conf
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    edits: "{{ valet_openstack_conf.valet | valet.openstack.oslo_edits }}"
'''

RETURN = r'''
_value:
  description: The edits, in the order of the entries.
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError


def _empty(value):
    return value is None or (isinstance(value, str) and value == '')


def oslo_edits(entries, secret=False):
    if not isinstance(entries, (list, tuple)):
        raise AnsibleFilterError('oslo_edits expects a list of edits, got %s' % type(entries).__name__)
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or 'section' not in entry or 'option' not in entry:
            raise AnsibleFilterError('oslo_edits: every entry needs section and option, got %r' % (entry,))
        edit = dict(entry)
        if 'value' in edit and _empty(edit['value']):
            del edit['value']
            if edit.get('secret'):
                if not secret:
                    edit['state'] = 'absent'
            elif edit.get('kind', 'scalar') != 'scalar':
                continue
            else:
                edit = {'section': edit['section'], 'option': edit['option'], 'state': 'absent'}
        out.append(edit)
    return out


class FilterModule(object):
    def filters(self):
        return {'oslo_edits': oslo_edits}
