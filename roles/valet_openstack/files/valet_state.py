"""What is there now, read in one call by the Python Heat / Nova run with (tasks/plan.yml).

Prints one JSON object: pip and build tools present, the installed valet-openstack (version,
Heat plugin directory, editable or not), Heat's own plugin_dirs default, the digest of the
staged source, and which of the given paths exist (the services' init scripts / units, another
deployment tool's files). Reads only; standard library at module level, since it runs in the
service's Python.
argv[1]: JSON {"stamp": path of the staged source's digest file, "heat": read Heat's default,
"paths": paths to look for}.
"""

import importlib.util
import json
import os
import subprocess
import sys


def has(name):
    # find_spec imports the parent package: a broken setuptools counts as missing, as for a build.
    try:
        return importlib.util.find_spec(name) is not None
    except Exception:
        return False


def package():
    """valet_os.paths' own answer (it knows both install layouts), plus PEP 610's editable flag."""
    proc = subprocess.run(
        [sys.executable, '-m', 'valet_os.paths'], capture_output=True, text=True, cwd='/', check=False
    )
    if proc.returncode != 0 or not proc.stdout.strip().startswith('{'):
        return None
    found = json.loads(proc.stdout)
    from importlib import metadata

    try:
        direct = json.loads(metadata.distribution('valet-openstack').read_text('direct_url.json') or 'null')
    except Exception:  # not installed by pip (a source checkout on sys.path): not editable
        direct = None
    found['editable'] = bool(((direct or {}).get('dir_info') or {}).get('editable'))
    return found


def heat_plugin_dirs_default():
    """plugin_dirs' default as the installed Heat defines it (the list heat-engine uses when unset)."""
    from heat.common import config

    for _group, opts in config.list_opts():
        for opt in opts:
            if opt.name == 'plugin_dirs':
                return list(opt.default)
    return None


def main():
    args = json.loads(sys.argv[1])
    out = {
        'pip': has('pip'),
        'build_tools': has('setuptools') and (has('wheel') or has('setuptools.command.bdist_wheel')),
        'package': package(),
        'source_digest': None,
        'heat_plugin_dirs_default': None,
        # lexists: a unit may be a symlink (systemctl enable / mask); the link itself counts
        'exists': [path for path in args.get('paths', []) if os.path.lexists(path)],
    }
    try:
        with open(args['stamp']) as handle:
            out['source_digest'] = handle.read().strip()
    except OSError:
        pass
    if args.get('heat'):
        try:
            out['heat_plugin_dirs_default'] = heat_plugin_dirs_default()
        except Exception as exc:  # reported by plan.yml with the variable to set instead
            out['heat_error'] = '%s: %s' % (type(exc).__name__, exc)
    print(json.dumps(out))


main()
