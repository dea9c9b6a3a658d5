# Stand-in for ansible-test's pip bootstrap script. ansible-test --venv downloads get-pip.py from
# ci-files.testing.ansible.com, which machines limited to PyPI cannot reach; its own error message
# says a bootstrap script may be saved in its cache instead. This one bootstraps pip from the
# stdlib wheel, then lets pip install what ansible-test asked for (pip==X, setuptools...) from PyPI.
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap()
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
cert = '/etc/ssl/certs/ca-certificates.crt'
extra = ['--cert', cert] if os.path.exists(cert) else []
subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + extra + args)
