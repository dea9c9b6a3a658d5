# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for the URLs the collection takes (valet-api, Keystone): http(s), a host, a port in 1-65535.

Used by the ``valet.openstack.http_url`` test (both roles' validate tasks); plain Python so that a
module can use it too.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

try:
    from urllib.parse import urlparse
except ImportError:  # pragma: no cover - Python 2 controllers are not supported
    from urlparse import urlparse


def url_problem(url):
    """Why ``url`` is not an http(s) URL with a host and a port in 1-65535, or None."""
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return 'it must be a non-empty string without blanks'
    try:
        parsed = urlparse(url)
        port = parsed.port  # ValueError when not a number or out of 0-65535
    except ValueError:
        return 'the port must be a number in 1-65535'
    if parsed.scheme not in ('http', 'https'):
        return 'the scheme must be http or https'
    if not parsed.hostname or '@' in parsed.netloc:
        return 'it needs a host (and no user@)'
    if port == 0:
        return 'the port must be a number in 1-65535'
    return None
