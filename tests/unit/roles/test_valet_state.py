"""The role's one read of the service's Python (roles/valet_openstack/files/valet_state.py), run for
real: by this venv's Python (Heat 27 and the editable valet-openstack installed) and by a bare venv."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'roles', 'valet_openstack', 'files', 'valet_state.py'
)


def state(python, tmp_path, heat=True, paths=()):
    with open(SCRIPT) as handle:
        source = handle.read()
    out = subprocess.run(
        [python, '-c', source, json.dumps({'stamp': str(tmp_path / 'stamp'), 'heat': heat, 'paths': list(paths)})],
        capture_output=True,
        text=True,
        check=True,
        cwd='/',
    )
    return json.loads(out.stdout)


def test_reads_heats_own_default_and_the_installed_package(tmp_path):
    from heat.common import config

    expected = [o.default for _g, opts in config.list_opts() for o in opts if o.name == 'plugin_dirs'][0]
    (tmp_path / 'stamp').write_text('abc\n')
    got = state(sys.executable, tmp_path)
    assert got['heat_plugin_dirs_default'] == list(expected)
    assert '/usr/lib/heat' in got['heat_plugin_dirs_default']
    assert got['pip'] is True and got['source_digest'] == 'abc'
    import valet_os

    assert got['package']['version'] == valet_os.__version__
    assert got['package']['heat_plugin_dir'].endswith('/etc/valet_os/heat')
    # `make venv` installs the package with pip install -e.
    assert got['package']['editable'] is True


def test_bare_python_reports_what_it_lacks(tmp_path):
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(venv)], check=True)
    got = state(str(venv / 'bin' / 'python'), tmp_path)
    assert got['pip'] is False and got['package'] is None and got['source_digest'] is None
    assert got['heat_plugin_dirs_default'] is None and 'heat' in got['heat_error']
    assert state(str(venv / 'bin' / 'python'), tmp_path, heat=False).get('heat_error') is None


def test_says_which_paths_exist(tmp_path):
    (tmp_path / 'heat-engine').write_text('#!/bin/sh\n')
    (tmp_path / 'nova-scheduler.service').symlink_to('/dev/null')  # a masked unit: the link counts
    (tmp_path / 'dangling.service').symlink_to(tmp_path / 'gone')
    paths = [str(tmp_path / name) for name in ('heat-engine', 'nova-scheduler.service', 'dangling.service', 'absent')]
    assert state(sys.executable, tmp_path, heat=False, paths=paths)['exists'] == paths[:3]
    # without paths (an older caller): nothing exists
    assert state(sys.executable, tmp_path, heat=False)['exists'] == []
