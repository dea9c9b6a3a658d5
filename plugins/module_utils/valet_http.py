# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP to valet-api and Keystone for the modules that check them (valet_api_info, valet_api_plan_probe):
one request that never raises, the Valet user's token request body, an endpoint from a token's catalog."""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import json

from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import fetch_url

from ansible_collections.valet.openstack.plugins.module_utils.url import url_problem


def request(module, url, wanted, method='GET', body=None, headers=None):
    """One request -> ({url, ok, status, msg}, response headers, parsed JSON body or None).

    Never raises, never fails the module."""
    result = dict(url=url, ok=False, status=-1, msg='')
    problem = url_problem(url)
    if problem:
        result['msg'] = "'%s' is not an http(s) URL: %s" % (url, problem)
        return result, {}, None
    data = json.dumps(body) if body is not None else None
    all_headers = dict(headers or {})
    if data is not None:
        all_headers['Content-Type'] = 'application/json'
    resp, info = fetch_url(
        module,
        url,
        data=data,
        headers=all_headers,
        method=method,
        timeout=module.params['timeout'],
        # ansible's urls reads the bundle for any request: an http URL needs none.
        ca_path=module.params.get('ca_path') if url.lower().startswith('https:') else None,
    )
    payload = None
    if resp is not None:
        try:
            payload = json.loads(resp.read() or b'null')
        except ValueError:
            payload = None
        resp.close()
    result['status'] = info.get('status', -1)
    result['ok'] = result['status'] in wanted
    result['msg'] = to_native(info.get('msg', ''))
    # Keystone says why in its JSON body ({"error": {"message": ...}}); say it too.
    try:
        reason = json.loads(info.get('body') or '{}').get('error', {}).get('message')
    except (ValueError, AttributeError):
        reason = None
    if reason:
        result['msg'] = '%s: %s' % (result['msg'], to_native(reason))
    return result, info, payload


def catalog_url(token_payload, service_type, region, interfaces):
    """The first endpoint of service_type in the token's catalog, by interface order; '' when none."""
    catalog = ((token_payload or {}).get('token') or {}).get('catalog') or []
    endpoints = [e for s in catalog if s.get('type') == service_type for e in s.get('endpoints') or []]
    for interface in interfaces:
        for endpoint in endpoints:
            if endpoint.get('interface') == interface and (
                not region or endpoint.get('region_id') == region or endpoint.get('region') == region
            ):
                return endpoint.get('url', '').rstrip('/')
    return ''


def token_body(params):
    return {
        'auth': {
            'identity': {
                'methods': ['password'],
                'password': {
                    'user': {
                        'name': params['username'],
                        'domain': {'name': params['user_domain_name']},
                        'password': params['password'],
                    }
                },
            },
            'scope': {'project': {'name': params['project_name'], 'domain': {'name': params['project_domain_name']}}},
        }
    }


def valet_user_argument_spec(**more):
    """The options of doc fragment valet.openstack.valet_user, plus a module's own."""
    spec = dict(
        username=dict(type='str', default='valet'),
        user_domain_name=dict(type='str', default='Default'),
        project_name=dict(type='str', default='service'),
        project_domain_name=dict(type='str', default='Default'),
        timeout=dict(type='int', default=30),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
    )
    spec.update(more)
    return spec
