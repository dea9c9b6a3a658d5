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
module: valet_api_info
short_description: Check that valet-api answers and that Keystone accepts the Valet credentials
version_added: 1.2.0
description:
  - Read only, and from the host it runs on (where the Valet plugins call from), in one module call
    three requests; each is answered in its own result key.
  - C(GET) the root of valet-api (its API versions), which must answer 200 or 300 (RV(versions)).
  - With O(password), C(POST <auth_url>/auth/tokens) as the Valet user scoped to its project, which
    Keystone must answer 201 (RV(token)); then, when both answered, C(GET <api_url>/status) with that
    token, which valet-api must answer 200 or 204 (RV(api_status)).
  - With O(aggregate_key) and the token, C(GET <compute>/os-aggregates) from Nova (its endpoint taken from the
    token's catalog), which must answer 200; RV(aggregates) says which aggregates carry that metadata key (the
    racks valet-api would see).
  - Never fails because of an answer, the caller decides and says which variable to fix. The token
    is neither returned nor logged.
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  api_url:
    description:
      - valet-api's versioned URL, for example V(http://valet.example.com:8090/v1). Its scheme, host and
        port make the root URL; C(/status) is appended for the status request.
    type: str
    required: true
  auth_url:
    description: Keystone's v3 URL, for example V(http://keystone.example.com:5000/v3). Required with O(password).
    type: str
  password:
    description: The Valet user's password. Without it only the root of valet-api is requested.
    type: str
  aggregate_key:
    description:
      - Metadata key of the Nova host aggregates that are racks (valet-api's C([engine] rack_aggregate_key)).
        With it and a token, Nova's aggregates are listed (RV(aggregates)). Nova's default policy lets only
        the admin role list them.
    type: str
  region_name:
    description: Region of the Nova endpoint in the catalog; any region when not given.
    type: str
  interfaces:
    description: Catalog interfaces tried in order for the Nova endpoint.
    type: list
    elements: str
    default: [internal, public]
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - valet.openstack.valet_user
attributes:
  check_mode:
    support: full
    description: Changes nothing, so it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: Check valet-api and the Valet credentials from a controller
  valet.openstack.valet_api_info:
    api_url: http://valet.example.com:8090/v1
    auth_url: http://keystone.example.com:5000/v3
    username: valet
    password: "{{ vault_valet_password }}"
    project_name: service
  register: valet_api

- name: Say why valet-api is not usable
  ansible.builtin.fail:
    msg: "valet-api at {{ valet_api.versions.url }} does not answer: {{ valet_api.versions.msg }}"
  when: not valet_api.versions.ok
'''

RETURN = r'''
versions:
  description: The C(GET) of valet-api's root.
  returned: always
  type: dict
  contains:
    url:
      description: The URL requested.
      type: str
      sample: http://valet.example.com:8090/
    ok:
      description: Whether valet-api answered 200 or 300.
      type: bool
    status:
      description: The HTTP status, or -1 when there was no HTTP answer (refused, timed out, bad URL).
      type: int
      sample: 200
    msg:
      description: What happened, for example that the connection was refused, or the HTTP reason.
      type: str
token:
  description: The Keystone token request; null without O(password).
  returned: always
  type: dict
  contains:
    url:
      description: The URL requested.
      type: str
      sample: http://keystone.example.com:5000/v3/auth/tokens
    ok:
      description: Whether Keystone issued a token (201).
      type: bool
    status:
      description: The HTTP status, or -1 when there was no HTTP answer.
      type: int
      sample: 401
    msg:
      description: What happened, with Keystone's own error message when it gave one.
      type: str
api_status:
  description:
    - The C(GET <api_url>/status) with the token.
    - Null unless valet-api's root answered and Keystone issued the token.
  returned: always
  type: dict
  contains:
    url:
      description: The URL requested.
      type: str
      sample: http://valet.example.com:8090/v1/status
    ok:
      description: Whether valet-api answered 200 or 204.
      type: bool
    status:
      description: The HTTP status, or -1 when there was no HTTP answer.
      type: int
      sample: 200
    msg:
      description: What happened.
      type: str
    report:
      description:
        - valet-api's own report, the C(status) object of its answer (null when there is none), for example
          whether it reaches its database and the cloud's APIs.
      type: dict
      sample:
        valet-api: degraded
        database: ok
        plans: 0
        cloud: {"placement": "error: placement answered GET /resource_providers?name=... with 403", "nova": "ok"}
aggregates:
  description:
    - Nova's host aggregates seen with the token. Null unless O(aggregate_key) was given and Keystone issued the token.
  returned: always
  type: dict
  contains:
    url:
      description: The URL requested (empty when the catalog has no Nova endpoint).
      type: str
      sample: http://nova.example.com:8774/v2.1/os-aggregates
    ok:
      description: Whether Nova answered 200.
      type: bool
    status:
      description: The HTTP status, or -1 when there was no HTTP answer.
      type: int
    msg:
      description: What happened.
      type: str
    racks:
      description: Value of O(aggregate_key) -> the hosts of the aggregates carrying it.
      type: dict
      sample: {r1: [r1-h1, r1-h2]}
'''


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.valet.openstack.plugins.module_utils.url import url_problem
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import catalog_url
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import request
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import token_body
from ansible_collections.valet.openstack.plugins.module_utils.valet_http import valet_user_argument_spec

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urlparse import urlparse


def rack_aggregates(module, token_payload, token_id):
    """GET Nova's os-aggregates; the racks the aggregates carrying aggregate_key make."""
    params = module.params
    nova = catalog_url(token_payload, 'compute', params['region_name'], params['interfaces'])
    if not nova:
        return dict(
            url='',
            ok=False,
            status=-1,
            racks={},
            msg='the catalog has no compute endpoint (region %s, interfaces %s)'
            % (params['region_name'] or 'any', ', '.join(params['interfaces'])),
        )
    result, _info, payload = request(module, nova + '/os-aggregates', (200,), headers={'X-Auth-Token': token_id})
    racks = {}
    for aggregate in (payload or {}).get('aggregates') or []:
        value = (aggregate.get('metadata') or {}).get(params['aggregate_key'])
        if value is not None:
            racks.setdefault(value, []).extend(aggregate.get('hosts') or [])
    result['racks'] = dict((k, sorted(v)) for k, v in racks.items())
    return result


def main():
    module = AnsibleModule(
        argument_spec=valet_user_argument_spec(
            api_url=dict(type='str', required=True),
            auth_url=dict(type='str'),
            password=dict(type='str', no_log=True),
            aggregate_key=dict(type='str', no_log=False),
            region_name=dict(type='str'),
            interfaces=dict(type='list', elements='str', default=['internal', 'public']),
        ),
        required_by=dict(password=['auth_url']),
        supports_check_mode=True,
    )
    params = module.params
    api_url = params['api_url'].rstrip('/')
    parsed = urlparse(api_url)
    root = '%s://%s/' % (parsed.scheme, parsed.netloc)

    problem = url_problem(api_url)
    if problem:
        versions = dict(url=api_url, ok=False, status=-1, msg="'%s' is not an http(s) URL: %s" % (api_url, problem))
    else:
        versions = request(module, root, (200, 300))[0]
    token = api_status = aggregates = None
    if params['password']:
        token_url = params['auth_url'].rstrip('/') + '/auth/tokens'
        token, info, token_payload = request(module, token_url, (201,), method='POST', body=token_body(params))
        # No status request when valet-api did not even answer its root: it would fail the same way.
        if token['ok'] and versions['ok']:
            headers = {'X-Auth-Token': info.get('x-subject-token', '')}
            api_status, _info, payload = request(module, api_url + '/status', (200, 204), headers=headers)
            # What valet-api says of itself and of what it depends on (no secret in it).
            report = payload.get('status') if isinstance(payload, dict) else None
            api_status['report'] = report if isinstance(report, dict) else None
        if token['ok'] and params['aggregate_key']:
            aggregates = rack_aggregates(module, token_payload, info.get('x-subject-token', ''))
    module.exit_json(changed=False, versions=versions, token=token, api_status=api_status, aggregates=aggregates)


if __name__ == '__main__':
    main()
