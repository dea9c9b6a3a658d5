"""The collection's execution-environment metadata is what ansible-builder reads and builds from."""

import yaml
from collection_helpers import BIN
from collection_helpers import run


def test_builder_introspects_the_installed_collection(installed):
    _listing, root, _env, _tmp = installed
    # introspect reads meta/execution-environment.yml of every collection under the path.
    out = run([str(BIN / "ansible-builder"), "introspect", str(root.parents[2])]).stdout
    deps = yaml.safe_load(out)
    python = {line.split(">=")[0].split("#")[0].strip().lower() for line in deps["python"]}
    # PyYAML is left out by the builder itself: ansible-core already depends on it.
    assert {"python-keystoneclient", "keystoneauth1"} <= python, deps
    assert any(line.startswith("tar ") for line in deps["system"]), deps
    assert any(line.startswith("gzip ") for line in deps["system"]), deps


def test_builder_creates_a_build_context(installed, tmp_path):
    listing, _root, _env, tmp = installed
    artifact = next(tmp.glob("valet-openstack-*.tar.gz"))
    (tmp_path / "requirements.yml").write_text(
        yaml.safe_dump({"collections": [{"name": str(artifact), "type": "file"}]})
    )
    (tmp_path / "execution-environment.yml").write_text(
        yaml.safe_dump(
            {
                "version": 3,
                "images": {"base_image": {"name": "registry.example.invalid/ee-minimal:latest"}},
                "dependencies": {
                    "galaxy": "requirements.yml",
                    "ansible_core": {"package_pip": "ansible-core>=2.19"},
                    "ansible_runner": {"package_pip": "ansible-runner"},
                },
            }
        )
    )
    context = tmp_path / "context"
    run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "-f",
            str(tmp_path / "execution-environment.yml"),
            "--context",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        cwd=tmp_path,
    )
    containerfile = (context / "Containerfile").read_text()
    # The build installs the collection and then resolves its declared Python and system deps.
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile
    assert (context / "_build" / "requirements.yml").is_file()
    assert "meta/execution-environment.yml" in listing
