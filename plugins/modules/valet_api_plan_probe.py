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
module: valet_api_plan_probe
short_description: Prove valet-api decides a placement, with a one-server plan created and deleted again
version_added: 1.2.0
description:
  - B(Writes to valet-api) (unlike M(valet.openstack.valet_api_info), which only reads). As the Valet user,
    C(POST <api_url>/plans) a plan of one C(OS::Nova::Server) of O(flavor) under a throwaway name
    (C(valet-probe-<random>)) and a random stack id; valet-api must answer 201 with a host for that
    server. Then C(DELETE <api_url>/plans/<stack id>) and a C(GET) of it that must answer 404.
  - Nothing is left behind when it succeeds, so it reports no change. When the delete fails the plan's
    name and stack id are in the failure message.
  - Fails with what valet-api or Keystone answered. The token is neither returned nor logged.
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  api_url:
    description: valet-api's versioned URL, for example V(http://127.0.0.1:8090/v1).
    type: str
    required: true
  auth_url:
    description: Keystone's v3 URL.
    type: str
    required: true
  password:
    description: The Valet user's password.
    type: str
    required: true
  flavor:
    description: Nova flavor (name or id) of the probe's server; valet-api reads its size from Nova.
    type: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - valet.openstack.valet_user
attributes:
  check_mode:
    support: none
    description: It creates a plan; in check mode Ansible skips it.
  diff_mode:
    support: none
    description: It changes nothing on the host, so there is no diff.
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: valet-api plans a one-server stack and forgets it again
  valet.openstack.valet_api_plan_probe:
    api_url: http://127.0.0.1:8090/v1
    auth_url: http://keystone.example.com:5000/v3
    password: "{{ vault_valet_password }}"
    flavor: m1.tiny
'''

RETURN = r'''
plan_name:
  description: The throwaway name the probe plan had.
  returned: always
  type: str
  sample: valet-probe-3f2a9c1e
host:
  description: The host valet-api chose for the probe's server.
  returned: success
  type: str
  sample: compute-07
'''

import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.valet.openstack.plugins.module_utils.valet_http import request
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import token_body
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import valet_user_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=valet_user_argument_spec(
            api_url=dict(type='str', required=True),
            auth_url=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            flavor=dict(type='str', required=True),
        ),
        supports_check_mode=False,
    )
    params = module.params
    api_url = params['api_url'].rstrip('/')
    plan_name = 'valet-probe-%s' % uuid.uuid4().hex[:8]
    stack_id, server = str(uuid.uuid4()), str(uuid.uuid4())

    token, info, _payload = request(
        module, params['auth_url'].rstrip('/') + '/auth/tokens', (201,), method='POST', body=token_body(params)
    )
    if not token['ok']:
        module.fail_json(
            msg='Keystone issued no token for %s: %s (status %s)' % (params['username'], token['msg'], token['status']),
            plan_name=plan_name,
        )
    headers = {'X-Auth-Token': info.get('x-subject-token', '')}

    body = {
        'plan_name': plan_name,
        'stack_id': stack_id,
        'timeout': '60 sec',
        'resources': {
            server: {'name': 'probe', 'type': 'OS::Nova::Server', 'properties': {'flavor': params['flavor']}}
        },
    }
    created, _info, answer = request(module, api_url + '/plans', (201,), method='POST', body=body, headers=headers)
    if not created['ok']:
        module.fail_json(
            msg='valet-api refused the probe plan %s: %s (status %s)' % (plan_name, created['msg'], created['status']),
            plan_name=plan_name,
        )
    placement = (((answer or {}).get('plan') or {}).get('placements') or {}).get(server) or {}
    host = placement.get('location')

    deleted = request(module, '%s/plans/%s' % (api_url, stack_id), (200, 202, 204), method='DELETE', headers=headers)[0]
    gone = request(module, '%s/plans/%s' % (api_url, stack_id), (404,), headers=headers)[0]
    if not (deleted['ok'] and gone['ok']):
        module.fail_json(
            msg='valet-api kept the probe plan %s (stack id %s): DELETE answered %s, GET then %s; '
            'delete it with DELETE %s/plans/%s'
            % (plan_name, stack_id, deleted['status'], gone['status'], api_url, stack_id),
            plan_name=plan_name,
        )
    if not host:
        module.fail_json(
            msg='valet-api accepted the probe plan %s but placed no host for its server: %s' % (plan_name, answer),
            plan_name=plan_name,
        )
    module.exit_json(changed=False, plan_name=plan_name, host=host)


if __name__ == '__main__':
    main()
