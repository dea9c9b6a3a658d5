# Run on openstack-ansible's deploy host by the Python Ansible runs there (tasks/osa.yml): read
# the operator's values of the variables Valet's group_vars files set, at every level openstack-ansible
# has, and sort them by what Ansible would do with them next to Valet's file:
#   merge  - below Valet's (group_vars/all, the hosts' other groups, earlier files of the group's
#            directory): Valet's file carries them, merged under Valet's values.
#   refuse - above Valet's (user_*.yml extra vars, host_vars, later files of the group's directory)
#            or hidden by it (group_vars/<group>.yml, which Ansible skips once group_vars/<group>/
#            exists): either value would be lost, so nothing is written.
#   unread - vault-encrypted files (their names are reported; the values cannot be checked).
# Argument: JSON {config_dir, own_file, old_files, components: {name: {group, groups, hosts, names}}}.
# Prints JSON {merge: {component: {var: value}}, refuse: [{path, names, why}], unread: [path]}.
# Only variable names leave this script for refusals: the files may hold secrets.
import json
import os
import sys

import yaml

EXTS = ('.yml', '.yaml', '.json')


class Loader(yaml.SafeLoader):
    pass


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


Loader.add_multi_constructor('!', _any_tag)


def load(path, unread):
    with open(path, 'rb') as handle:
        data = handle.read()
    if data.startswith(b'$ANSIBLE_VAULT'):
        unread.append(path)
        return {}
    value = yaml.load(data.decode('utf-8'), Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    return value if isinstance(value, dict) else {}


def entity_files(directory, name):
    """Ansible's find_vars_files: the directory <name>/ (sorted) if it exists, else the first <name><ext>."""
    base = os.path.join(directory, name)
    for ext in ('',) + EXTS:
        path = base + ext
        if os.path.isdir(path):
            out = []
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for f in sorted(files):
                    if not f.startswith('.') and not f.endswith('~') and os.path.splitext(f)[1] in ('',) + EXTS:
                        out.append(os.path.join(root, f))
            return out
        if ext and os.path.isfile(path):
            return [path]
    return []


def main():
    args = json.loads(sys.argv[1])
    conf = args['config_dir']
    group_vars = os.path.join(conf, 'group_vars')
    host_vars = os.path.join(conf, 'host_vars')
    own = set(args['own_files'])
    old = set(args['old_files'])
    every = sorted({n for c in args['components'].values() for n in c['names']})
    result = {'merge': {}, 'refuse': [], 'unread': []}
    unread = result['unread']

    def refuse(path, names, why):
        if names:
            result['refuse'].append({'path': path, 'names': sorted(names), 'why': why})

    for f in sorted(os.listdir(conf)) if os.path.isdir(conf) else []:
        path = os.path.join(conf, f)
        if f.startswith('user_') and f.endswith(EXTS) and path not in old and os.path.isfile(path):
            refuse(
                path,
                set(load(path, unread)) & set(every),
                'openstack-ansible passes every user_*.yml as extra vars, which replace the value of the'
                ' group_vars file Valet writes',
            )

    for name, comp in sorted(args['components'].items()):
        names = set(comp['names'])
        group = comp['group']
        # What Ansible would use below Valet's file: its default hash_behaviour (replace) keeps a variable's
        # value from the last level that sets it, whole. Lower than Valet's: all, then the hosts' other groups.
        merged = {}
        for entity in ['all'] + sorted(g for g in comp['groups'] if g not in ('all', group)):
            for path in entity_files(group_vars, entity):
                data = load(path, unread)
                merged.update((k, v) for k, v in data.items() if k in names)
        gdir = os.path.join(group_vars, group)
        for ext in EXTS:
            path = gdir + ext
            if os.path.isfile(path):
                refuse(
                    path,
                    {'(the whole file)'},
                    'Ansible reads group_vars/%s/ instead of it once Valet writes its file there; move it into'
                    ' %s/ (any name)' % (group, gdir),
                )
        ours = [os.path.join(gdir, f) for f in sorted(own)]
        for path in entity_files(group_vars, group) if os.path.isdir(gdir) else []:
            if path in ours:
                continue
            data = load(path, unread)
            if os.path.basename(path) < os.path.basename(sorted(own)[0]):
                merged.update((k, v) for k, v in data.items() if k in names)
            else:
                refuse(
                    path,
                    set(data) & names,
                    'it sorts after %s in the same directory, so its value would replace Valet\'s' % sorted(own)[0],
                )
        for host in comp['hosts']:
            for path in entity_files(host_vars, host):
                refuse(path, set(load(path, unread)) & names, 'host_vars replace the group_vars Valet writes')
        result['merge'][name] = merged
    print(json.dumps(result))


if __name__ == '__main__':
    main()
