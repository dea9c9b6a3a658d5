#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Valet OpenStack collection contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only service manager for tests/playbooks (valet_openstack_service_manager: standin_service):
restarts a stand-in process instead of a systemd unit. $STANDIN_SERVICES is a directory with, per
service, NAME.json ({"argv": [...]}, the command that runs it); the module keeps NAME.pid and
appends one line per restart to NAME.restarts."""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: standin_service
short_description: Restart a stand-in service process (tests only)
description: Kills the process recorded in C($STANDIN_SERVICES/NAME.pid) and starts C(NAME.json)'s argv again.
options:
  name:
    description: The service.
    type: str
    required: true
  state:
    description: Only V(restarted), V(started) are done; others are refused.
    type: str
    default: restarted
author: Valet OpenStack collection contributors (@valet-openstack)
'''

import json
import os
import signal
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule


def stop(pidfile):
    try:
        with open(pidfile) as f:
            pid = int(f.read())
    except (OSError, ValueError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        # the stand-in is our grandchild's session leader: reap it if it is our child, else wait
        try:
            os.waitpid(pid, os.WNOHANG)
        except OSError:
            pass
        time.sleep(0.05)


def main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type='str', required=True), state=dict(type='str', default='restarted')),
        supports_check_mode=True,
    )
    home = os.environ['STANDIN_SERVICES']
    name = module.params['name']
    if module.params['state'] not in ('restarted', 'started'):
        module.fail_json(msg='standin_service does only restarted / started')
    with open(os.path.join(home, name + '.json')) as f:
        spec = json.load(f)
    if module.check_mode:
        module.exit_json(changed=True, name=name)
    pidfile = os.path.join(home, name + '.pid')
    stop(pidfile)
    proc = subprocess.Popen(
        spec['argv'],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    with open(pidfile, 'w') as f:
        f.write(str(proc.pid))
    with open(os.path.join(home, name + '.restarts'), 'a') as f:
        f.write('%d\n' % proc.pid)
    module.exit_json(changed=True, name=name, pid=proc.pid)


if __name__ == '__main__':
    main()
