"""oslo_ini editor over the real Debian 12 heat.conf / nova.conf and edited variants."""

import os

import pytest

from ansible_collections.valet.openstack.plugins.module_utils import oslo_ini as oi

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'data')
VALET_FILTER = 'valet_os.nova.valet_filter.ValetFilter'
NOVA_DEFAULT_FILTERS = [
    'ComputeFilter',
    'ComputeCapabilitiesFilter',
    'ImagePropertiesFilter',
    'ServerGroupAntiAffinityFilter',
    'ServerGroupAffinityFilter',
]


def sample(name):
    if name == 'heat_crlf_noeol.conf':
        # Derived here rather than stored: repository tooling normalises line endings.
        return sample('heat_operator.conf').replace('\n', '\r\n').rstrip('\r\n')
    with open(os.path.join(DATA, name), 'rb') as handle:
        return oi.decode(handle.read())


def run(text, ledger=None, **params):
    return oi.apply_change(text, 'test.conf', params, ledger)


def install_then_check(text, expected, **params):
    """Apply, compare bytes, re-apply (no change), remove, compare with the original bytes."""
    first = run(text, **params)
    assert first.changed
    assert first.text == expected
    again = run(first.text, first.ledger, **params)
    assert not again.changed and again.text == expected
    undo = run(again.text, again.ledger, **dict(params, state='absent'))
    assert undo.changed
    assert oi.encode(undo.text) == oi.encode(text)
    assert undo.ledger == {'sections': {}, 'options': {}}
    return first


# -- parsing ---------------------------------------------------------------


@pytest.mark.parametrize(
    'name',
    [
        'heat.conf',
        'nova.conf',
        'heat_operator.conf',
        'heat_crlf_noeol.conf',
        'nova_valet_middle.conf',
        'nova_juno.conf',
    ],
)
def test_samples_parse_and_round_trip(name):
    raw = oi.encode(sample(name))
    doc = oi.IniDocument(oi.decode(raw), name)
    assert oi.encode(doc.text()) == raw
    assert 'DEFAULT' in doc.section_names()


@pytest.mark.parametrize(
    'text,lineno,reason',
    [
        ('[DEFAULT]\n[bad\n', 2, 'invalid section header'),
        ('[DEFAULT]\na = 1\n[]\n', 3, 'empty section name'),
        ('[DEFAULT]\n  indented\n', 2, 'unexpected continuation line'),
        ('[DEFAULT]\n# c\n\tindented\n', 3, 'unexpected continuation line'),
        ('[DEFAULT]\njust words\n', 2, "no '=' or ':'"),
        ('[DEFAULT]\n= value\n', 2, 'option name is empty'),
        ('# header\nkey = value\n', 2, 'option outside any [section]'),
    ],
)
def test_syntax_errors_name_path_and_line(text, lineno, reason):
    with pytest.raises(oi.IniError) as err:
        oi.IniDocument(text, '/etc/nova/nova.conf')
    assert str(err.value).startswith('/etc/nova/nova.conf: line %d: %s' % (lineno, reason))


def test_values_follow_oslo_rules():
    sections, values = oi.read_values(
        sample('nova_juno.conf'),
        'j',
        [
            'DEFAULT/scheduler_default_filters',
            'DEFAULT/debug',
            'filter_scheduler/enabled_filters',
            'valet/url',
            'DEFAULT/verbose',
        ],
    )
    assert sections == ['DEFAULT', 'database', 'filter_scheduler', 'keystone_authtoken']
    assert values == {
        'DEFAULT/scheduler_default_filters': [
            'RetryFilter, AvailabilityZoneFilter, RamFilter,\nComputeFilter, ComputeCapabilitiesFilter'
        ],
        'DEFAULT/debug': ['false\n# tab-indented continuation of debug is legal oslo syntax'],
        'filter_scheduler/enabled_filters': [
            'ComputeFilter,ComputeCapabilitiesFilter',
            'ComputeFilter , ImagePropertiesFilter , ServerGroupAffinityFilter',
        ],
        'valet/url': [],
        'DEFAULT/verbose': ['True'],
    }


def test_parser_agrees_with_oslo_config(tmp_path):
    """Whatever oslo.config itself reads from the edited files is what we report."""
    iniparser = pytest.importorskip('oslo_config.iniparser')
    for name in ('nova_juno.conf', 'heat_crlf_noeol.conf', 'nova_valet_middle.conf'):
        text = sample(name)
        parsed = {}

        class Collect(iniparser.BaseParser):
            section = None

            def new_section(self, section):
                self.section = section
                parsed.setdefault(section, {})  # noqa: B023 - used within this iteration only

            def assignment(self, key, value):
                parsed[self.section].setdefault(key, []).append('\n'.join(value))  # noqa: B023

        Collect().parse(text.splitlines(True))
        doc = oi.IniDocument(text, name)
        for section, opts in parsed.items():
            for key, vals in opts.items():
                assert doc.values_of(section, key) == vals, (name, section, key)


# -- scalar ------------------------------------------------------------------


def test_scalar_new_key_goes_right_after_header_when_section_has_no_keys():
    text = sample('heat.conf')
    expected = text.replace('[DEFAULT]\n', '[DEFAULT]\nstack_scheduler_hints = true\n', 1)
    res = install_then_check(text, expected, section='DEFAULT', option='stack_scheduler_hints', value='true')
    assert res.previous is None


def test_scalar_new_key_goes_after_last_key_not_after_trailing_comments():
    text = sample('heat.conf')
    # [trustee] has keys auth_type and user_domain_name, then comments and blank lines.
    anchor = 'user_domain_name = default\n'
    assert text.count(anchor) == 1
    expected = text.replace(anchor, anchor + 'password = pw\n')
    install_then_check(text, expected, section='trustee', option='password', value='pw')


def test_scalar_duplicated_key_sets_the_one_oslo_uses_and_restores_it():
    text = sample('heat_operator.conf')
    expected = text.replace('stack_scheduler_hints=False\n', 'stack_scheduler_hints=true\n')
    res = install_then_check(text, expected, section='DEFAULT', option='stack_scheduler_hints', value='true')
    assert res.previous == 'False'
    assert res.msg == 'value changed'


def test_scalar_already_set_is_left_alone_on_absent():
    # The operator's connection line is followed by Debian's own one, which oslo.config uses.
    text = sample('heat_operator.conf')
    res = run(text, section='database', option='connection', value='sqlite:////var/lib/heat/heatdb')
    assert not res.changed
    undo = run(
        text,
        res.ledger,
        section='database',
        option='connection',
        value='sqlite:////var/lib/heat/heatdb',
        state='absent',
    )
    assert not undo.changed and undo.text == text


def test_scalar_absent_without_ledger_only_removes_an_equal_value():
    text = '[valet]\nurl = http://a/v1\nretries=3\n'
    other = run(text, section='valet', option='url', value='http://b/v1', state='absent')
    assert not other.changed and other.text == text
    same = run(text, section='valet', option='url', value='http://a/v1', state='absent')
    assert same.text == '[valet]\nretries=3\n'


def test_scalar_changed_by_operator_after_us_is_not_reverted():
    text = '[valet]\nurl = old\n'
    res = run(text, section='valet', option='url', value='ours')
    theirs = res.text.replace('ours', 'theirs')
    undo = run(theirs, res.ledger, section='valet', option='url', value='ours', state='absent')
    assert not undo.changed and undo.text == theirs
    assert undo.ledger['options'] == {}


def test_new_sections_and_keys_removed_in_any_order():
    text = sample('heat.conf')
    ledger = None
    cur = text
    keys = [
        ('valet', 'url', 'http://valet:8090/v1'),
        ('valet', 'retries', '3'),
        ('other', 'a', '1'),
        ('valet', 'read_timeout', '10'),
    ]
    for section, option, value in keys:
        res = run(cur, ledger, section=section, option=option, value=value)
        cur, ledger = res.text, res.ledger
    assert cur == text + ('\n[valet]\nurl = http://valet:8090/v1\nretries = 3\nread_timeout = 10\n\n[other]\na = 1\n')
    for section, option, value in [keys[1], keys[0], keys[3], keys[2]]:
        res = run(cur, ledger, section=section, option=option, value=value, state='absent')
        assert res.changed
        cur, ledger = res.text, res.ledger
    assert cur == text
    assert ledger == {'sections': {}, 'options': {}}


def test_crlf_and_missing_final_newline_are_kept():
    text = sample('heat_crlf_noeol.conf')
    assert not text.endswith('\n')
    expected = text + '\r\n\r\n[valet]\r\nurl = http://v/v1'
    install_then_check(text, expected, section='valet', option='url', value='http://v/v1')
    expected = text.replace(
        'plugin_dirs   =   /usr/lib/heat, /opt/site/heat\r\n',
        'plugin_dirs   =   /usr/lib/heat, /opt/site/heat, /opt/valet\r\n',
    )
    install_then_check(text, expected, section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/valet')


def test_key_in_last_section_of_file_without_final_newline():
    text = '[a]\nx = 1\n[b]\ny=2'
    install_then_check(text, '[a]\nx = 1\n[b]\ny=2\nz = 3', section='b', option='z', value='3')


def test_empty_file():
    install_then_check('', '[valet]\nurl = u\n', section='valet', option='url', value='u')


# -- list --------------------------------------------------------------------


def test_list_member_added_in_operator_style():
    text = sample('heat_operator.conf')
    expected = text.replace(
        'plugin_dirs   =   /usr/lib/heat, /opt/site/heat\n',
        'plugin_dirs   =   /usr/lib/heat, /opt/site/heat, /opt/valet\n',
    )
    res = install_then_check(text, expected, section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/valet')
    assert res.previous == ['/usr/lib/heat', '/opt/site/heat']


def test_list_created_when_absent():
    text = sample('heat.conf')
    expected = text.replace('[DEFAULT]\n', '[DEFAULT]\nplugin_dirs = /opt/valet\n', 1)
    install_then_check(text, expected, section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/valet')


def test_list_created_with_nova_defaults():
    text = sample('nova.conf')
    line = 'enabled_filters = %s,ValetFilter\n' % ','.join(NOVA_DEFAULT_FILTERS)
    expected = text.replace('[filter_scheduler]\n', '[filter_scheduler]\n' + line, 1)
    install_then_check(
        text,
        expected,
        section='filter_scheduler',
        option='enabled_filters',
        kind='list',
        value='ValetFilter',
        position='last',
        default=NOVA_DEFAULT_FILTERS,
    )


def test_list_position_last_moves_member_and_absent_puts_it_back():
    text = sample('nova_valet_middle.conf')
    params = dict(section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter')
    assert not run(text, **params).changed
    expected = text.replace(
        'enabled_filters = ComputeFilter,ValetFilter,ImagePropertiesFilter\n',
        'enabled_filters = ComputeFilter,ImagePropertiesFilter,ValetFilter\n',
    )
    res = install_then_check(text, expected, position='last', default=NOVA_DEFAULT_FILTERS, **params)
    assert res.msg == 'member moved to the end'
    assert res.previous == ['ComputeFilter', 'ValetFilter', 'ImagePropertiesFilter']


def test_list_moved_member_goes_back_even_after_operator_edit():
    text = sample('nova_valet_middle.conf')
    params = dict(section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter')
    res = run(text, position='last', **params)
    edited = res.text.replace('ImagePropertiesFilter,ValetFilter\n', 'ImagePropertiesFilter,ValetFilter,RackFilter\n')
    undo = run(edited, res.ledger, state='absent', **params)
    assert undo.text == text.replace(
        'ComputeFilter,ValetFilter,ImagePropertiesFilter\n',
        'ComputeFilter,ValetFilter,ImagePropertiesFilter,RackFilter\n',
    )


def test_list_absent_without_ledger_removes_only_the_member():
    text = sample('nova_valet_middle.conf')
    res = run(
        text, section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter', state='absent'
    )
    assert res.text == text.replace(
        'ComputeFilter,ValetFilter,ImagePropertiesFilter', 'ComputeFilter,ImagePropertiesFilter'
    )
    assert not run(
        res.text, section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter', state='absent'
    ).changed


def test_list_with_continuation_lines_and_duplicated_key():
    text = sample('nova_juno.conf')
    expected = text.replace(
        '    ComputeFilter, ComputeCapabilitiesFilter\n', '    ComputeFilter, ComputeCapabilitiesFilter, ValetFilter\n'
    )
    install_then_check(
        text,
        expected,
        section='DEFAULT',
        option='scheduler_default_filters',
        kind='list',
        value='ValetFilter',
        position='last',
    )
    expected = text.replace(
        'enabled_filters=ComputeFilter , ImagePropertiesFilter , ServerGroupAffinityFilter\n',
        'enabled_filters=ComputeFilter , ImagePropertiesFilter , ServerGroupAffinityFilter , ValetFilter\n',
    )
    install_then_check(
        text, expected, section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter'
    )


def test_section_names_match_like_oslo_config():
    text = '[Filter_Scheduler]\nenabled_filters = A\n[default]\nx = 1\n'
    install_then_check(
        text,
        text.replace('= A', '= A,ValetFilter'),
        section='filter_scheduler',
        option='enabled_filters',
        kind='list',
        value='ValetFilter',
    )
    # Only DEFAULT is exact: [default] is another group for oslo.config.
    install_then_check(text, text + '\n[DEFAULT]\nx = 2\n', section='DEFAULT', option='x', value='2')


def test_list_created_option_removed_only_when_just_defaults_remain():
    text = '[filter_scheduler]\n'
    params = dict(
        section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter', default=['A', 'B']
    )
    res = run(text, **params)
    assert res.text == '[filter_scheduler]\nenabled_filters = A,B,ValetFilter\n'
    edited = res.text.replace('B,', 'B,C,')
    undo = run(edited, res.ledger, state='absent', **params)
    assert undo.text == '[filter_scheduler]\nenabled_filters = A,B,C\n'


HEAT_DEFAULT_DIRS = ['/usr/lib64/heat', '/usr/lib/heat', '/usr/local/lib/heat', '/usr/local/lib64/heat']


def test_list_created_by_release_1_0_alone_gets_the_defaults_before_ours():
    """Upgrade from 1.0 (issue 24.16): 1.0 created plugin_dirs with Valet's directory alone (no
    defaults), so Heat stopped searching its own directories. The edit naming the defaults puts them
    before ours; uninstall then removes the whole line, giving back the original bytes."""
    text = sample('heat.conf')
    params = dict(section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/valet')
    old = run(text, **params)  # what 1.0 wrote and recorded
    assert old.text == text.replace('[DEFAULT]\n', '[DEFAULT]\nplugin_dirs = /opt/valet\n', 1)
    assert old.ledger['options']['DEFAULT/plugin_dirs']['defaults'] == []

    up = run(old.text, old.ledger, default=HEAT_DEFAULT_DIRS, **params)
    assert up.changed and up.msg == 'defaults added before ours'
    line = 'plugin_dirs = %s,/opt/valet\n' % ','.join(HEAT_DEFAULT_DIRS)
    assert up.text == text.replace('[DEFAULT]\n', '[DEFAULT]\n' + line, 1)
    again = run(up.text, up.ledger, default=HEAT_DEFAULT_DIRS, **params)
    assert not again.changed
    undo = run(again.text, again.ledger, state='absent', default=HEAT_DEFAULT_DIRS, **params)
    assert undo.text == text and undo.ledger == {'sections': {}, 'options': {}}


def test_list_created_then_edited_by_the_operator_keeps_their_members():
    text = sample('heat.conf')
    params = dict(section='DEFAULT', option='plugin_dirs', kind='list', value='/opt/valet')
    old = run(text, **params)
    edited = old.text.replace('plugin_dirs = /opt/valet', 'plugin_dirs = /opt/site,/opt/valet')
    res = run(edited, old.ledger, default=HEAT_DEFAULT_DIRS, **params)
    assert not res.changed and res.text == edited


# -- multi -------------------------------------------------------------------


def test_multi_materialises_default_and_removes_it():
    text = sample('nova.conf')
    expected = text.replace(
        '[filter_scheduler]\n',
        '[filter_scheduler]\n'
        'available_filters = nova.scheduler.filters.all_filters\n'
        'available_filters = %s\n' % VALET_FILTER,
        1,
    )
    install_then_check(
        text,
        expected,
        section='filter_scheduler',
        option='available_filters',
        kind='multi',
        value=VALET_FILTER,
        default=['nova.scheduler.filters.all_filters'],
    )


def test_multi_added_after_last_existing_line():
    text = sample('nova_valet_middle.conf')
    expected = text.replace(
        'available_filters = site_filters.RackFilter\n',
        'available_filters = site_filters.RackFilter\navailable_filters = %s\n' % VALET_FILTER,
    )
    res = install_then_check(
        text,
        expected,
        section='filter_scheduler',
        option='available_filters',
        kind='multi',
        value=VALET_FILTER,
        default=['nova.scheduler.filters.all_filters'],
    )
    assert res.previous == ['nova.scheduler.filters.all_filters', 'site_filters.RackFilter']


def test_multi_keeps_materialised_default_when_operator_added_a_line():
    text = '[filter_scheduler]\n'
    params = dict(section='filter_scheduler', option='available_filters', kind='multi', value='v.F', default=['all'])
    res = run(text, **params)
    edited = res.text + 'available_filters = site.F\n'
    undo = run(edited, res.ledger, state='absent', **params)
    assert undo.text == '[filter_scheduler]\navailable_filters = all\navailable_filters = site.F\n'


def test_multi_absent_without_ledger_removes_only_our_line():
    text = '[f]\nm = all\nm = v.F\n'
    res = run(text, section='f', option='m', kind='multi', value='v.F', state='absent')
    assert res.text == '[f]\nm = all\n'


# -- parameters and masking -------------------------------------------------


@pytest.mark.parametrize(
    'params,fragment',
    [
        (dict(kind='scalar', position='last', value='x'), 'position is only valid with kind=list'),
        (dict(kind='multi', position='any', value='x'), 'position is only valid with kind=list'),
        (dict(kind='list', value='a,b'), 'must not contain a comma'),
        (dict(kind='scalar', value='a\nb'), 'must not contain newlines'),
        (dict(kind='scalar', value='x', default=['y']), 'default is only valid'),
        (dict(kind='list'), 'value is required'),
        (dict(kind='scalar', state='present'), 'value is required'),
        (dict(kind='scalar', value='x', option='a=b'), 'option must be'),
    ],
)
def test_invalid_parameters_fail_before_parsing(params, fragment):
    params = dict(dict(section='s', option='o'), **params)
    with pytest.raises(oi.IniError) as err:
        # The text is not even valid: validation must come first.
        oi.apply_change('[broken\n', 'x.conf', params)
    assert fragment in str(err.value)


def test_mask_hides_every_secret_longest_first():
    assert oi.mask('a = pw\nb = pw2\n', ['pw', 'pw2']) == 'a = ********\nb = ********\n'
    assert oi.mask(None, ['x']) is None


def test_redact_masks_credential_options_only():
    text = sample('nova_juno.conf')
    out = oi.redact(text, 'j')
    for secret in ('Nova-ks-pw', 'Rabbit-pw', 'Nova-DB-pw'):
        assert secret in text and secret not in out
    assert 'rabbit_password = ********\n' in out and 'connection = ********\n' in out
    assert 'my_ip = 10.0.0.11\n' in out
    assert out.count('\n') == text.count('\n')


def test_ledger_file_round_trip(tmp_path):
    path = str(tmp_path / 'sub' / 'ledger.json')
    data = oi.load_ledger(path)
    data['files']['/etc/x.conf'] = {'sections': {}, 'options': {'a/b': {'kind': 'scalar'}}}
    oi.save_ledger(path, data)
    assert oi.load_ledger(path) == data
    assert os.stat(path).st_mode & 0o777 == 0o600
    (tmp_path / 'bad.json').write_text('{')
    with pytest.raises(oi.IniError):
        oi.load_ledger(str(tmp_path / 'bad.json'))
    (tmp_path / 'newer.json').write_text('{"version": 3, "files": {}}')
    with pytest.raises(oi.IniError, match='ledger version 3'):
        oi.load_ledger(str(tmp_path / 'newer.json'))


def test_trailing_comma_of_continuation_list_survives_operator_edit_and_uninstall():
    """Issue 11.2, the operator's own example: ours goes on a line of its own, before their comma."""
    original = (
        '[filter_scheduler]\nenabled_filters = ComputeFilter,\n    ComputeCapabilitiesFilter,\n'
        '    ImagePropertiesFilter,\n[valet]\nurl = x\n'
    )
    params = dict(
        section='filter_scheduler', option='enabled_filters', kind='list', value='ValetFilter', position='last'
    )
    first = run(original, **params)
    assert first.text == original.replace('ImagePropertiesFilter,\n', 'ImagePropertiesFilter,\n    ValetFilter,\n')
    assert not run(first.text, first.ledger, **params).changed
    edited = first.text.replace('= ComputeFilter,', '= RamFilter,ComputeFilter,')
    undo = run(edited, first.ledger, **dict(params, state='absent'))
    assert undo.text == original.replace('= ComputeFilter,', '= RamFilter,ComputeFilter,')


def test_write_atomic_follows_a_link_and_cleans_up_a_failed_write(tmp_path):
    """Issue 24.1 / 24.12 without a real full disk: the move fails (ENOSPC), no temporary file is left."""
    import errno

    target = tmp_path / 'real' / 'nova.conf'
    target.parent.mkdir()
    target.write_text('old\n')
    link = tmp_path / 'nova.conf'
    link.symlink_to(target)

    def failing_move(src, dst):
        raise OSError(errno.ENOSPC, 'No space left on device')

    with pytest.raises(OSError):
        oi.write_atomic(str(link), b'new\n', failing_move)
    assert os.listdir(str(target.parent)) == ['nova.conf'] and target.read_text() == 'old\n'
    assert oi.write_atomic(str(link), b'new\n', os.rename) == str(target)
    assert link.is_symlink() and target.read_text() == 'new\n'


def test_literal_escapes_dollar_in_values_and_defaults():
    edits = oi.edit_list(
        dict(edits=[dict(section='s', option='o', kind='list', value='a$b', default=['$x'])], state='present')
    )
    assert edits[0]['value'] == 'a$$b' and edits[0]['default'] == ['$$x']
    raw = oi.edit_list(dict(edits=[dict(section='s', option='o', value='a$b')], literal=False))
    assert raw[0]['value'] == 'a$b'
