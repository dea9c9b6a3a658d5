"""The docs name the molecule scenarios that exist, and only those (README's table of test hosts,
docs/ARCHITECTURE.md's layout row); README links the generated bad-input table instead of copying it."""

import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(os.path.join(REPO, path)) as f:
        return f.read()


def scenarios():
    root = os.path.join(REPO, 'extensions', 'molecule')
    return {name for name in os.listdir(root) if os.path.isfile(os.path.join(root, name, 'molecule.yml'))}


def test_architecture_lists_the_scenarios():
    row = next(
        line for line in read('docs/ARCHITECTURE.md').splitlines() if line.startswith('| `extensions/molecule/` |')
    )
    listed = set(re.findall(r'\b([a-z_]+)(?= \(|,|$)', row.split('scenarios:', 1)[1].strip(' |')))
    assert listed == scenarios(), row


def test_readme_scenario_table_lists_the_scenarios():
    text = read('README.md')
    table = text[text.index('| scenario | hosts | proves |') :]
    rows = re.findall(r'^\| `([a-z_]+)` \|', table.split('\n\n', 1)[0], flags=re.M)
    assert sorted(rows) == sorted(scenarios())


def test_readme_links_the_bad_input_table():
    readme = read('README.md')
    assert '(docs/bad-input.md)' in readme
    generated = [line for line in read('docs/bad-input.md').splitlines() if line.startswith('| `')]
    assert generated and not [line for line in generated if line in readme]
