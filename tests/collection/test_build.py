"""The built artifact installs and runs on its own, without this source tree."""
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(cmd, env=None, cwd=None):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def test_built_collection_installs_and_runs(tmp_path):
    run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(REPO)])
    artifacts = list(tmp_path.glob("valet-openstack-*.tar.gz"))
    assert len(artifacts) == 1
    # Nothing of the development tree may ride along.
    listing = run(["tar", "-tzf", str(artifacts[0])]).stdout.split()
    assert not [name for name in listing if name.startswith((".venv", ".collections", ".git/", ".ansible"))]
    assert "files/valet_os/pyproject.toml" in listing
    assert "roles/valet_openstack/meta/argument_specs.yml" in listing

    dest = tmp_path / "installed"
    # An environment that knows only the installed artifact (not this tree's ansible.cfg).
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_CONFIG=str(tmp_path / "none.cfg"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(dest), str(artifacts[0])],
        env=env, cwd=tmp_path)
    conf = tmp_path / "heat.conf"
    conf.write_text("[DEFAULT]\nplugin_dirs = /srv/a\n")
    # Run from an empty directory so that nothing of the tree can be picked up.
    out = run([str(BIN / "ansible"), "localhost", "-m", "valet.openstack.oslo_ini_info",
               "-a", json.dumps({"path": str(conf), "options": ["DEFAULT/plugin_dirs"]})],
              env=env, cwd=tmp_path).stdout
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["values"] == {"DEFAULT/plugin_dirs": ["/srv/a"]}
    playbook = dest / "ansible_collections/valet/openstack/playbooks/site.yml"
    run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)], env=env, cwd=tmp_path)
