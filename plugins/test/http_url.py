# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: http_url
short_description: Is the value an http(s) URL with a host and a port in 1-65535?
version_added: 1.1.0
description:
  - True for C(http://host[:port][/path]) and C(https://...), the host possibly a bracketed IPv6 address.
  - The same rule for every URL the collection takes (C(valet_openstack_api_url), Keystone URLs).
author:
  - Valet for OpenStack maintainers (@valet-openstack)
options:
  _input:
    description: The URL.
    type: raw
    required: true
'''

EXAMPLES = r'''
- name: Fail early on a URL without a scheme
  ansible.builtin.assert:
    that: valet_openstack_api_url is valet.openstack.http_url
'''

RETURN = r'''
_value:
  description: Whether the value is such a URL.
  type: bool
'''

from ansible_collections.valet.openstack.plugins.module_utils.url import url_problem


def http_url(value):
    return url_problem(value) is None


class TestModule(object):
    def tests(self):
        return {'http_url': http_url}
