"""The built artifact holds only what a user installs, and installs and runs on its own."""

import json

from collection_helpers import BIN
from collection_helpers import REPO
from collection_helpers import run

# Development and test content: in the source tree, never in the artifact (galaxy.yml build_ignore).
DEV_ONLY = (
    "tests/",
    "extensions/",
    "benchmarks/",
    "tools/",
    "changelogs/fragments/",
    "changelogs/releases.json",
    ".ci/",
    ".venv",
    ".collections",
    ".git/",
    ".ansible",
    "dist/",
)
DEV_FILES = {
    "Makefile",
    "ansible.cfg",
    "pytest.ini",
    "requirements-test.txt",
    "ruff.toml",
    ".ansible-lint",
    ".gitignore",
}


def test_artifact_is_lean(installed):
    listing = installed[0]
    leaked = [name for name in listing if name.startswith(DEV_ONLY) or name in DEV_FILES]
    assert not leaked, "development content in the artifact: %s" % leaked
    # ... and everything a user needs is there.
    for needed in (
        "files/valet_os/pyproject.toml",
        "roles/valet_openstack/meta/argument_specs.yml",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "meta/ee-requirements.txt",
        "meta/ee-bindep.txt",
        "changelogs/changelog.yaml",
        "CHANGELOG.md",
        "COPYING",
        "files/valet_os/LICENSE",
        "playbooks/site.yml",
        "playbooks/uninstall.yml",
    ):
        assert needed in listing, needed
    # Every runtime file of the tree made it: plugins, roles, playbooks, the package.
    tracked = run(["git", "ls-files", "plugins", "roles", "playbooks", "files", "meta"], cwd=REPO).stdout.split()
    missing = [name for name in tracked if name not in listing]
    assert not missing, "runtime files missing from the artifact: %s" % missing


def test_every_module_and_role_documents_itself_from_the_install(installed):
    _listing, root, env, tmp = installed
    modules = sorted(p.stem for p in (root / "plugins" / "modules").glob("*.py"))
    roles = sorted(p.name for p in (root / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
    # The install holds what the tree has (nothing lost on the way).
    assert modules == sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    assert roles == sorted(p.name for p in (REPO / "roles").iterdir() if p.is_dir())

    listed = json.loads(run([str(BIN / "ansible-doc"), "-l", "--json", "valet.openstack"], env=env, cwd=tmp).stdout)
    assert sorted(listed) == ["valet.openstack." + m for m in modules]
    for module in modules:
        doc = json.loads(
            run([str(BIN / "ansible-doc"), "--json", "valet.openstack." + module], env=env, cwd=tmp).stdout
        )["valet.openstack." + module]
        assert doc["doc"]["short_description"], module
        assert doc["doc"]["collection"] == "valet.openstack"
        assert doc["examples"] and doc["return"], module
        # The docsite's attributes table: what a user needs before a check-mode or --diff run.
        assert {"check_mode", "diff_mode", "platform"} <= set(doc["doc"].get("attributes", {})), module
    for role in roles:
        proc = run([str(BIN / "ansible-doc"), "-t", "role", "--json", "valet.openstack." + role], env=env, cwd=tmp)
        doc = json.loads(proc.stdout)["valet.openstack." + role]
        assert "main" in doc["entry_points"], role
        for name, entry in doc["entry_points"].items():
            assert entry.get("short_description") and entry.get("options"), (role, name)


def test_installed_collection_runs_a_module_and_parses_its_playbooks(installed):
    _listing, root, env, tmp = installed
    conf = tmp / "heat.conf"
    conf.write_text("[DEFAULT]\nplugin_dirs = /srv/a\n")
    # Run from an empty directory so that nothing of the tree can be picked up.
    out = run(
        [
            str(BIN / "ansible"),
            "localhost",
            "-m",
            "valet.openstack.oslo_ini_info",
            "-a",
            json.dumps({"path": str(conf), "options": ["DEFAULT/plugin_dirs"]}),
        ],
        env=env,
        cwd=tmp,
    ).stdout
    result = json.loads(out)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["option_values"] == {"DEFAULT/plugin_dirs": ["/srv/a"]}
    for playbook in ("site.yml", "uninstall.yml", "kolla_verify.yml"):
        run(
            [str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(root / "playbooks" / playbook)],
            env=env,
            cwd=tmp,
        )
        run(
            [str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", "valet.openstack." + playbook[:-4]],
            env=env,
            cwd=tmp,
        )
