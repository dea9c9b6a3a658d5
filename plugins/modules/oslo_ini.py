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
module: oslo_ini
short_description: Change options of an oslo.config INI file, keeping everything else byte for byte
version_added: 1.0.0
description:
  - Sets scalar options, adds members to comma-separated list options, or adds lines to multi-valued
    options of an oslo.config file (C(nova.conf), C(heat.conf)).
  - One call applies one edit (O(section), O(option), ...) or a whole list of them (O(edits)), read, changed
    and written once.
  - Comments, blank lines, spacing, other keys, duplicated keys and sections, CRLF line endings, a
    missing final newline and a list's trailing comma are kept exactly as they are.
  - Every change is recorded in a JSON O(ledger) so that O(state=absent) removes exactly what this module
    added and restores what it replaced. Without a ledger record, O(state=absent) removes only our list
    member, our multi-valued line, or a scalar option whose value equals O(value).
  - 'The file is parsed with the same rules as oslo.config; a syntax error fails with C(<path>: line N: <reason>).'
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  path:
    description: Path of the oslo.config file. It must exist.
    type: path
    required: true
  edits:
    description:
      - The edits to apply, in order. Each takes the keys of the single-edit options below (O(section),
        O(option), O(value), O(kind), O(position), O(default), O(secret)) plus O(edits[].state).
      - Mutually exclusive with O(section) and O(option).
    type: list
    elements: dict
    suboptions:
      section:
        description: As O(section).
        type: str
        required: true
      option:
        description: As O(option).
        type: str
        required: true
      value:
        description: As O(value). For a secret edit without a value, O(secret_value) is used.
        type: str
      kind:
        description: As O(kind).
        type: str
        choices: [scalar, list, multi]
      state:
        description: This edit's state; O(state) when not given.
        type: str
        choices: [present, absent]
      position:
        description: As O(position).
        type: str
        choices: [any, last]
      default:
        description: As O(default).
        type: list
        elements: str
      secret:
        description: As O(secret).
        type: bool
        default: false
  secret_value:
    description:
      - The value of the secret edits in O(edits) that give none (for example a password), kept out of
        the loop items and the output.
    type: str
  section:
    description: Section name, without brackets (for example V(DEFAULT) or V(filter_scheduler)).
    type: str
  option:
    description: Option name.
    type: str
  value:
    description:
      - The value (O(kind=scalar)), the list member (O(kind=list)) or the line value (O(kind=multi)).
      - Required except with O(state=absent) and O(kind=scalar).
    type: str
  kind:
    description:
      - V(scalar) sets C(option = value); with duplicated keys the last one, the one oslo.config uses, is set.
      - V(list) treats the value as a comma-separated list and adds O(value) as a member.
      - V(multi) treats the option as multi-valued (one C(option = value) line per value) and adds a line
        after the last existing line of the option.
    type: str
    choices: [scalar, list, multi]
    default: scalar
  state:
    description:
      - V(present) makes sure our value is there.
      - V(absent) removes what this module added (see the ledger) and nothing else.
    type: str
    choices: [present, absent]
    default: present
  position:
    description:
      - Only with O(kind=list). V(last) moves our member to the end of the list if it is elsewhere.
        When not given, V(any) is used.
    type: str
    choices: [any, last]
  default:
    description:
      - Only with O(kind=list) or O(kind=multi). The members or lines the option implicitly has when it is
        absent from the file. When the option must be created they are written together with ours, so that
        the service keeps them.
    type: list
    elements: str
  secret:
    description:
      - The value and the previous value are masked in the output and in the diff.
      - The file must not be readable by others (mode C(o+r)) while the edit is present (the module fails
        before writing).
      - The ledger keeps no previous value of a secret option (only that there was one), so O(state=absent)
        removes the option instead of restoring it; it removes it also without a ledger record (a lost ledger)
        or after a change since (a rotated password), so that no secret is left behind.
    type: bool
    default: false
  ledger:
    description:
      - JSON file recording what was changed, per file, section and option. Created with mode 0600.
    type: path
    default: /var/lib/valet_openstack/ini_ledger.json
  literal:
    description:
      - Write values (and O(default) members) so that oslo.config reads them back as given (a C($) is written
        C($$), oslo.config's escape of its C($name) interpolation).
      - V(false) writes them as given, for a deliberate C($option) reference.
    type: bool
    default: true
  create:
    description:
      - Create the file (mode 0640) if it does not exist. When false a missing file is an error.
      - A file created this way is deleted by O(state=absent) once nothing of ours is left and it is empty.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - The file is written atomically, once per call; its owner, group and mode are kept. A symlink stays a
    link (its target is written, and its target's owner, group and mode kept). A failed write (full disk)
    leaves no temporary file behind.
  - In the diff, the values of credential-like options (names containing C(password), C(secret), C(token),
    C(connection), C(transport_url), or ending in C(_key)) are masked as well, since the diff holds
    the whole file.
'''

EXAMPLES = r'''
- name: Add the Valet plugin directory to Heat's plugin_dirs
  valet.openstack.oslo_ini:
    path: /etc/heat/heat.conf
    section: DEFAULT
    option: plugin_dirs
    kind: list
    value: /usr/lib/python3/dist-packages/valet_os/heat

- name: Make ValetFilter the last enabled Nova filter
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    section: filter_scheduler
    option: enabled_filters
    kind: list
    position: last
    value: ValetFilter
    default: [ComputeFilter, ComputeCapabilitiesFilter, ImagePropertiesFilter,
              ServerGroupAntiAffinityFilter, ServerGroupAffinityFilter]

- name: Make the Valet filter available, keeping Nova's own filters
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    section: filter_scheduler
    option: available_filters
    kind: multi
    value: valet_os.nova.valet_filter.ValetFilter
    default: [nova.scheduler.filters.all_filters]

- name: Store the Valet password
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    section: valet
    option: admin_password
    value: "{{ valet_password }}"
    secret: true

- name: All of Valet's nova.conf edits in one call (the password from a no_log option)
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    edits:
      - {section: filter_scheduler, option: enabled_filters, kind: list, position: last, value: ValetFilter}
      - {section: valet, option: url, value: "http://valet-api:8090/v1"}
      - {section: valet, option: admin_password, secret: true}
    secret_value: "{{ valet_password }}"

- name: Remove what we added
  valet.openstack.oslo_ini:
    path: /etc/nova/nova.conf
    section: filter_scheduler
    option: enabled_filters
    kind: list
    value: ValetFilter
    state: absent
'''

RETURN = r'''
msg:
  description: 'What was done (with O(edits), per changed edit, C([section] option: what)).'
  returned: always
  type: str
  sample: member added
previous:
  description:
    - The value before the change (scalar), the list members (list) or all the lines' values (multi).
      Null when the option was absent. Masked when O(secret=true). With O(edits), the first edit's.
  returned: always
  type: raw
  sample: [ComputeFilter, ImagePropertiesFilter]
edits:
  description: Per edit, in order, C(section), C(option), C(state), C(changed), C(msg) and C(previous).
  returned: always
  type: list
  elements: dict
  sample: [{section: valet, option: url, state: present, changed: true, msg: option added, previous: null}]
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import EDIT_SPEC
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import MASK
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import IniError
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import apply_changes
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import check_secret_mode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import decode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import edit_list
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import encode
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import mask
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import option_values
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import read_ledger
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import redact
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import save_ledger
from ansible_collections.valet.openstack.plugins.module_utils.oslo_ini import write_atomic


def _write(module, path, data, existed=True):
    # atomic_move copies owner, group and mode from the file it replaces: the link's target.
    real = write_atomic(path, data, module.atomic_move)
    if not existed:
        os.chmod(real, 0o640)


def _summary(results):
    changed = [r for r in results if r['changed']]
    if len(results) == 1:
        return results[0]['msg']
    if not changed:
        return 'nothing to change'
    return '; '.join('[%s] %s: %s' % (r['section'], r['option'], r['msg']) for r in changed)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            edits=dict(type='list', elements='dict', options=EDIT_SPEC),
            secret_value=dict(type='str', no_log=True),
            section=dict(type='str'),
            option=dict(type='str'),
            value=dict(type='str'),
            kind=dict(type='str', default='scalar', choices=['scalar', 'list', 'multi']),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            position=dict(type='str', choices=['any', 'last']),
            default=dict(type='list', elements='str'),
            secret=dict(type='bool', default=False),
            ledger=dict(type='path', default='/var/lib/valet_openstack/ini_ledger.json'),
            create=dict(type='bool', default=False),
            literal=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('edits', 'section'), ('edits', 'option')],
        required_one_of=[('edits', 'section')],
        required_together=[('section', 'option')],
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    edits = edit_list(params)
    secrets = [e['value'] for e in edits if e['secret'] and e['value']]
    for secret in secrets:
        module.no_log_values.add(secret)
    try:
        existed = os.path.exists(path)
        if not existed and not params['create']:
            raise IniError('%s does not exist' % path)
        text = ''
        if existed:
            with open(path, 'rb') as handle:
                text = decode(handle.read())
        ledger, migrated = read_ledger(params['ledger'])
        key = os.path.abspath(path)
        new_text, file_record, results = apply_changes(text, path, edits, ledger['files'].get(key))
        check_secret_mode(path, edits)
    except (IniError, IOError, OSError) as exc:
        module.fail_json(msg=mask(to_native(exc), secrets))
    for edit, res in zip(edits, results):
        if not edit['secret']:
            continue
        # Whatever the option holds before or after (ours, the operator's, one restored from the
        # ledger) is a secret too.
        for item in option_values(text, path, edit['section'], edit['option']) + option_values(
            new_text, path, edit['section'], edit['option']
        ):
            if item:
                secrets.append(item)
                module.no_log_values.add(item)
        if res['previous'] is not None:
            res['previous'] = [MASK] * len(res['previous']) if isinstance(res['previous'], list) else MASK
    changed = new_text != text
    if not existed and changed:
        file_record['file_created'] = True
    # A file we created and that is empty again goes away: it was ours too.
    remove_file = bool(
        existed
        and new_text == ''
        and file_record.get('file_created')
        and not file_record['sections']
        and not file_record['options']
    )
    out = dict(changed=changed or remove_file, msg=_summary(results), previous=results[0]['previous'], edits=results)
    if remove_file:
        out['msg'] += '; file we created removed'
    if module._diff:
        out['diff'] = dict(
            before=mask(redact(text, path), secrets),
            after=mask(redact(new_text, path), secrets),
            before_header=path,
            after_header=path,
        )
    if not module.check_mode:
        try:
            if remove_file:
                os.unlink(path)
            elif changed:
                _write(module, path, encode(new_text), existed)
            new_files = dict(ledger['files'])
            if (file_record['sections'] or file_record['options']) and not remove_file:
                new_files[key] = file_record
            else:
                new_files.pop(key, None)
            if new_files != ledger['files'] or migrated:
                ledger['files'] = new_files
                save_ledger(params['ledger'], ledger)
        except (IOError, OSError) as exc:
            module.fail_json(msg=mask(to_native(exc), secrets))
    module.exit_json(**out)


if __name__ == '__main__':
    main()
