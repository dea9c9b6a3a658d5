"""valet_probe_service.py runs in the service's Python, which has neither Ansible nor this
collection: its module level may use the standard library only. Checked two ways: every import
outside a function names a standard-library module, and the file runs under `python -I -S` (no
site-packages at all) far enough to print its JSON report."""

import ast
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.valet.openstack.plugins.module_utils import valet_probe
from ansible_collections.valet.openstack.plugins.module_utils import valet_probe_service

PROBE = valet_probe_service.__file__


def module_level_imports(tree):
    """Top-level module names imported outside any function or class body."""
    names, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Import):
            names += [alias.name.split('.')[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append('.' if node.level else node.module.split('.')[0])
        else:
            todo += [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]
    return names


@pytest.mark.skipif(sys.version_info < (3, 10), reason='sys.stdlib_module_names is Python 3.10+')
def test_module_level_imports_are_stdlib():
    with open(PROBE) as f:
        names = module_level_imports(ast.parse(f.read()))
    assert 'json' in names  # the walk sees the imports at all
    outside = sorted(set(n for n in names if n != '__future__' and n not in sys.stdlib_module_names))
    assert not outside, 'valet_probe_service.py imports %s at module level: standard library only' % outside


def test_runs_without_site_packages(tmp_path):
    """No site-packages: the service import fails inside probe_heat and is reported as a check."""
    conf = tmp_path / 'heat.conf'
    conf.write_text('[DEFAULT]\n')
    args = {'component': 'heat', 'config_file': str(conf), 'expect': 'present'}
    proc = subprocess.run(
        [sys.executable, '-I', '-S', PROBE, json.dumps(args)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report['component'] == 'heat'
    assert [c['name'] for c in report['checks']] == ['import'] and not report['checks'][0]['ok']


def test_shipped_source_is_the_probe_file():
    with open(PROBE) as f:
        assert valet_probe.probe_source() == f.read()
    assert os.path.basename(PROBE) == 'valet_probe_service.py'
