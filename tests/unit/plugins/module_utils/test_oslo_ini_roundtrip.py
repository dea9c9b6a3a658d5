"""Property: the role's install edits then its uninstall edits give back the original bytes.

Files are generated with comments (# and ;), blank and whitespace-only lines, duplicated keys and
sections, odd spacing, `key: value`, continuation lines, CRLF, a missing final newline, and with the
options we touch present (sometimes already holding our value) or absent.
"""

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from ansible_collections.valet.openstack.plugins.module_utils import oslo_ini as oi

VALET_FILTER = 'valet_os.nova.valet_filter.ValetFilter'
HEAT_DIR = '/usr/lib/python3/dist-packages/valet_os/heat'
NOVA_DEFAULT = [
    'ComputeFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter',
    'ServerGroupAffinityFilter',
]

INSTALL = [
    dict(section='DEFAULT', option='plugin_dirs', kind='list', value=HEAT_DIR),
    dict(section='DEFAULT', option='stack_scheduler_hints', value='true'),
    dict(section='valet', option='url', value='http://valet:8090/v1'),
    dict(section='valet', option='admin_password', value='s3cret'),
    dict(section='valet', option='failure_mode', value='reject'),
    dict(
        section='filter_scheduler',
        option='available_filters',
        kind='multi',
        value=VALET_FILTER,
        default=['nova.scheduler.filters.all_filters'],
    ),
    dict(
        section='filter_scheduler',
        option='enabled_filters',
        kind='list',
        value='ValetFilter',
        position='last',
        default=NOVA_DEFAULT,
    ),
]

SECTIONS = ['DEFAULT', 'filter_scheduler', 'valet', 'database', 'keystone_authtoken', 'Filter_Scheduler', 'default']
LIST_MEMBERS = ['ComputeFilter', 'RamFilter', 'ValetFilter', '/usr/lib/heat', HEAT_DIR, 'x']
OPTION_VALUES = {
    'plugin_dirs': None,  # a list
    'enabled_filters': None,  # a list
    'stack_scheduler_hints': ['true', 'false', 'False', ''],
    'url': ['http://valet:8090/v1', 'http://old/v1'],
    'admin_password': ['s3cret', 'other'],
    'available_filters': ['nova.scheduler.filters.all_filters', VALET_FILTER, 'site.RackFilter'],
    'connection': ['sqlite://', 'mysql://u:p@h/db'],
}
SEPARATORS = [' = ', '=', '   =  ', ': ', ' =']

words = st.text(alphabet='abc XYZ=,:[]#;\t', max_size=12).map(str.rstrip)


@st.composite
def list_value(draw):
    members = draw(st.lists(st.sampled_from(LIST_MEMBERS), max_size=4))
    seps = [draw(st.sampled_from([',', ', ', ' , ', ',  '])) for _member in members[1:]]
    text = members[0] if members else ''
    for sep, member in zip(seps, members[1:]):
        text += sep + member
    if members and draw(st.booleans()) and draw(st.booleans()):
        text += ','
    return text


@st.composite
def assignment(draw):
    option = draw(st.sampled_from(sorted(OPTION_VALUES)))
    pool = OPTION_VALUES[option]
    value = draw(list_value()) if pool is None else draw(st.sampled_from(pool))
    line = option + draw(st.sampled_from(SEPARATORS)) + value + draw(st.sampled_from(['', ' ', '\t']))
    lines = [line]
    for _idx in range(draw(st.integers(0, 2))):
        # Continuation lines: indented, part of the value for oslo.config.
        lines.append(
            draw(st.sampled_from(['    ', '\t', ' ']))
            + draw(st.sampled_from(['more,', 'ComputeFilter', '# looks like a comment', 'x, y']))
        )
    return lines


comment = st.builds(lambda c, w: c + w, st.sampled_from(['#', ';', '# ', '#enabled_filters = ']), words)
blank = st.sampled_from(['', '   ', '\t'])


@st.composite
def section(draw):
    lines = ['[%s]' % draw(st.sampled_from(SECTIONS))]
    for _idx in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(['comment', 'blank', 'key', 'key']))
        if kind == 'comment':
            lines.append(draw(comment))
        elif kind == 'blank':
            lines.append(draw(blank))
        else:
            lines.extend(draw(assignment()))
    return lines


@st.composite
def oslo_file(draw):
    lines = draw(st.lists(st.one_of(comment, blank), max_size=3))
    for sec in draw(st.lists(section(), max_size=5)):
        lines.extend(sec)
    eol = draw(st.sampled_from(['\n', '\r\n']))
    text = ''.join(line + eol for line in lines)
    if text and draw(st.booleans()):
        text = text[: -len(eol)]
    return text


def oslo_read(text):
    """What oslo.config itself reads: {group: {key: [values]}}, groups normalised like cfg does."""
    iniparser = pytest.importorskip('oslo_config.iniparser')
    parsed = {}

    class Collect(iniparser.BaseParser):
        group = None

        def new_section(self, section):
            self.group = section if section == 'DEFAULT' else section.lower()

        def assignment(self, key, value):
            parsed.setdefault(self.group, {}).setdefault(key, []).append('\n'.join(value))

    Collect().parse(text.splitlines(True))
    return parsed


def apply_all(text, ledger, edits, state):
    for params in edits:
        res = oi.apply_change(text, 'gen.conf', dict(params, state=state), ledger)
        text, ledger = res.text, res.ledger
    return text, ledger


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(original=oslo_file(), order=st.permutations(range(len(INSTALL))))
def test_install_then_uninstall_gives_back_the_original_bytes(original, order):
    oi.IniDocument(original, 'gen.conf')  # the generator only makes valid files
    installed, ledger = apply_all(original, None, INSTALL, 'present')

    # What we meant is what oslo.config's own parser reads (the last value wins for
    # normal options, all values count for multi-valued ones).
    conf = oslo_read(installed)
    types = pytest.importorskip('oslo_config.types')
    assert conf['DEFAULT']['stack_scheduler_hints'][-1] == 'true'
    assert conf['valet']['url'][-1] == 'http://valet:8090/v1'
    assert HEAT_DIR in types.List()(conf['DEFAULT']['plugin_dirs'][-1])
    assert types.List()(conf['filter_scheduler']['enabled_filters'][-1])[-1] == 'ValetFilter'
    assert VALET_FILTER in conf['filter_scheduler']['available_filters']

    again, ledger = apply_all(installed, ledger, INSTALL, 'present')
    assert again == installed

    restored, ledger = apply_all(installed, ledger, [INSTALL[i] for i in order], 'absent')
    assert oi.encode(restored) == oi.encode(original)
    assert ledger == {'sections': {}, 'options': {}}


LISTS = [(e['section'], e['option'], e['value']) for e in INSTALL if e.get('kind') == 'list']


def operator_prepends(text, section, option):
    """The operator puts a member of their own in front of the list (the last occurrence, the one read)."""
    doc = oi.IniDocument(text, 'gen.conf')
    entry = doc.entries_of(section, option)[-1]
    doc.set_raw_value(entry, 'OperatorMember,' + entry.raw_value)
    return doc.text()


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    original=oslo_file(), which=st.sampled_from(LISTS), trailing=st.sampled_from(['', ',']), continuation=st.booleans()
)
def test_operator_edit_between_install_and_uninstall_keeps_their_bytes(original, which, trailing, continuation):
    """Issue 11.2: whatever the operator wrote (a trailing comma included) survives install, their
    own edit of the same list, and uninstall; only our member comes and goes."""
    section, option, ours = which
    members = ', '.join(['ComputeFilter', 'ImagePropertiesFilter'])
    eol = '\r\n' if '\r\n' in original else '\n'
    value = members.replace(', ', ',' + eol + '    ') if continuation else members
    block = '[%s]%s%s = %s%s%s' % (section, eol, option, value, trailing, eol)
    # At the end, so that this is the occurrence oslo.config reads (the last one).
    original = original + (eol if original and not original.endswith(eol) else '') + block
    doc = oi.IniDocument(original, 'gen.conf')
    assume(ours not in doc.entries_of(section, option)[-1].members())

    installed, ledger = apply_all(original, None, INSTALL, 'present')
    assert oi.IniDocument(installed, 'gen.conf').entries_of(section, option)[-1].members()[-1] == ours
    edited = operator_prepends(installed, section, option)
    restored, ledger = apply_all(edited, ledger, INSTALL, 'absent')
    assert oi.encode(restored) == oi.encode(operator_prepends(original, section, option))
