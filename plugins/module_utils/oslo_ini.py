# -*- coding: utf-8 -*-
# Copyright: Valet for OpenStack maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Byte-preserving editor for oslo.config INI files.

The single home of INI logic of the collection: both modules, install and
uninstall go through :func:`apply_change`.  Plain Python (no Ansible import) so
it can be unit-tested directly.

The parser follows ``oslo_config.iniparser`` line classification exactly
(blank line, indented continuation, ``[section]``, ``#``/``;`` comment,
``key = value`` / ``key: value``) so that what we consider an option is what
Nova and Heat will read.  Every edit is a splice of whole lines or of the raw
value text of one option: everything else in the file is never re-rendered.

The ledger (a plain dict, stored as JSON by the module) records what we
changed, so that ``state=absent`` removes exactly that and nothing else.
It never holds a secret in clear.  Its shape, the one place it is written down::

    {"version": 2,
     "files": {"<path>": {                      # one "file record" per edited file (path as given,
                                                # a symlink's own path, not its target's)
         "file_created": true,                  # only if the module created the file
         "sections": {"<section>": {"blank_before": bool}},   # sections we created
         "options": {"<section>/<option>": <option record>}}}}

An option record is one of (``ours`` holds a sha256 digest for a scalar, the
plain member or line value for a list or multi)::

    {"kind": K, "preexisting": true}    # the operator already had our value: absent keeps it
    {"kind": "scalar", "created": true, "ours": sha256}           # we added the line
    {"kind": "scalar", "created": false, "ours": sha256,
     "previous_raw": "<the operator's raw value, put back on absent>"}
    {"kind": "scalar", "created": false, "ours": sha256,
     "previous_secret": true}           # a secret edit replaced a value: not kept, absent removes the line
    {"kind": "list", "created": true, "defaults": [...], "ours": member}
    {"kind": "list", "created": false, "ours": member, "before": raw, "after": raw,
     "moved_from": index or null}        # index our member had before position=last moved it
    {"kind": "multi", "ours": line value, "defaults": [...]}   # defaults: lines we wrote first

Version 1 (releases 1.0 and 1.1) is read and migrated on load: a scalar record of a credential-like
option (SENSITIVE_KEY_RE) loses its ``previous_raw`` for ``previous_secret``.

Values are written for oslo.config to read back literally: a ``$`` is written ``$$`` (oslo.config
interpolates ``$name``), unless the module's ``literal`` is false.  Everything below (ledger digests,
comparisons) works on the text as written.
"""

from __future__ import absolute_import
from __future__ import division
from __future__ import print_function

__metaclass__ = type

import copy
import hashlib
import json
import os
import re
import tempfile

MASK = '********'
KINDS = ('scalar', 'list', 'multi')
STATES = ('present', 'absent')
POSITIONS = ('any', 'last')
LEDGER_VERSION = 2
# Older versions load_ledger migrates.
LEDGER_VERSIONS_READ = (1, 2)


class IniError(Exception):
    """A file or parameter problem; str() is the message shown to the user."""


def _eol_of(line):
    if line.endswith('\r\n'):
        return '\r\n'
    if line.endswith('\n'):
        return '\n'
    return ''


def split_lines(text):
    """Split on '\\n' only (str.splitlines also splits on \\x0c, \\x1c...)."""
    if not text:
        return []
    parts = text.split('\n')
    lines = [p + '\n' for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _group_key(name):
    return name if name == 'DEFAULT' else name.lower()


class Entry:
    """One assignment: lines[start:end] (first line plus continuation lines)."""

    def __init__(self, section, key, start, end, prefix, raw_value, trail, value):
        self.section = section  # the Section it belongs to
        self.key = key
        self.start = start
        self.end = end
        self.prefix = prefix  # "key = " exactly as written
        self.raw_value = raw_value  # value text as written, may span lines
        self.trail = trail  # trailing blanks and the final line ending
        self.value = value  # the value as oslo.config reads it

    def members(self):
        return list_members(self.raw_value)


class Section:
    def __init__(self, name, header):
        self.name = name
        self.header = header  # line index of "[name]"
        self.end = header + 1  # exclusive end of the body
        self.entries = []


def list_members(raw):
    """Members of a ListOpt value, as oslo.config splits it (trailing comma ignored)."""
    stripped = raw.strip().rstrip(',')
    if not stripped:
        return []
    return [m.strip() for m in stripped.split(',')]


_SEP_RE = re.compile(r'(\s*,\s*)')


class IniDocument:
    """Parsed view over the lines of one file; re-parse after each splice."""

    def __init__(self, text, path):
        self.path = path
        self.lines = split_lines(text)
        self.parse()

    # -- parsing -----------------------------------------------------------

    def _error(self, lineno, reason):
        raise IniError('%s: line %d: %s' % (self.path, lineno, reason))

    def parse(self):
        self.sections = []
        current = None
        entry_lines = None  # [start, key, section] of the assignment being read
        entries = []

        def flush(end):
            start, key, section = entry_lines
            entry = self._make_entry(section, key, start, end)
            section.entries.append(entry)
            entries.append(entry)

        for idx, line in enumerate(self.lines):
            content = line.rstrip()
            if not content:
                if entry_lines:
                    flush(idx)
                    entry_lines = None
                continue
            if content[0] in ' \t':
                if entry_lines is None:
                    self._error(idx + 1, 'unexpected continuation line')
                continue
            if entry_lines:
                flush(idx)
                entry_lines = None
            if content.startswith('['):
                if not content.endswith(']'):
                    self._error(idx + 1, 'invalid section header (must end with "]")')
                if len(content) <= 2:
                    self._error(idx + 1, 'empty section name')
                current = Section(content[1:-1], idx)
                self.sections.append(current)
            elif content[0] in '#;':
                pass
            else:
                if '=' not in content and ':' not in content:
                    self._error(idx + 1, "no '=' or ':' in assignment")
                if not re.split('[=:]', content, maxsplit=1)[0].strip():
                    self._error(idx + 1, 'option name is empty')
                if current is None:
                    self._error(idx + 1, 'option outside any [section]')
                entry_lines = [idx, re.split('[=:]', content, maxsplit=1)[0].strip(), current]
        if entry_lines:
            flush(len(self.lines))
        for pos, section in enumerate(self.sections):
            nxt = self.sections[pos + 1].header if pos + 1 < len(self.sections) else len(self.lines)
            section.end = nxt
        self.entries = entries

    def _make_entry(self, section, key, start, end):
        raw = ''.join(self.lines[start:end])
        first = self.lines[start]
        first_content = first[: len(first) - len(_eol_of(first))]
        sep = re.search('[=:]', first_content).start()
        value_at = sep + 1
        while value_at < len(first_content) and first_content[value_at] in ' \t':
            value_at += 1
        value_end = max(len(raw.rstrip()), value_at)
        raw_value = raw[value_at:value_end]
        # oslo: first line value stripped and unquoted, continuation lines
        # left-stripped, joined with newlines.
        parts = [ln.rstrip() for ln in self.lines[start:end]]
        head = parts[0][sep + 1 :].strip()
        if head and head[0] == head[-1] and head.startswith(('"', "'")):
            head = head[1:-1]
        value = '\n'.join([head] + [p.lstrip() for p in parts[1:]])
        return Entry(section, key, start, end, raw[:value_at], raw_value, raw[value_end:], value)

    # -- queries -----------------------------------------------------------

    def text(self):
        return ''.join(self.lines)

    def eol(self):
        for line in self.lines:
            if line.endswith('\n'):
                return _eol_of(line)
        return '\n'

    def sections_named(self, name):
        # oslo.config matches group names case-insensitively, except DEFAULT.
        key = _group_key(name)
        return [s for s in self.sections if _group_key(s.name) == key]

    def section_names(self):
        seen = []
        for s in self.sections:
            if s.name not in seen:
                seen.append(s.name)
        return seen

    def entries_of(self, section, option):
        return [e for s in self.sections_named(section) for e in s.entries if e.key == option]

    def values_of(self, section, option):
        return [e.value for e in self.entries_of(section, option)]

    # -- splices -------------------------------------------------------------

    def replace_lines(self, start, end, new_lines):
        self.lines[start:end] = new_lines
        self.parse()

    def set_raw_value(self, entry, raw_value):
        text = entry.prefix + raw_value + entry.trail
        self.replace_lines(entry.start, entry.end, split_lines(text))

    def insert_lines(self, at, new_lines):
        """Insert whole lines before index `at`, keeping a missing final EOL missing."""
        new_lines = list(new_lines)
        if at == len(self.lines) and self.lines and not _eol_of(self.lines[-1]):
            # The file had no trailing newline: the line we follow gets one and
            # our last line goes without, so removing ours restores the bytes.
            self.lines[-1] += self.eol()
            new_lines[-1] = new_lines[-1][: len(new_lines[-1]) - len(_eol_of(new_lines[-1]))]
        self.lines[at:at] = new_lines
        self.parse()

    def delete_lines(self, start, end):
        """Delete lines[start:end], undoing insert_lines' handling of a missing final EOL."""
        at_end = end == len(self.lines)
        dropped_eol = at_end and end > start and not _eol_of(self.lines[end - 1])
        del self.lines[start:end]
        if dropped_eol and self.lines:
            last = self.lines[-1]
            self.lines[-1] = last[: len(last) - len(_eol_of(last))]
        self.parse()

    @staticmethod
    def insertion_point(section):
        """Right after the section's last option line (not its trailing comments), else after its header."""
        if section.entries:
            return section.entries[-1].end
        return section.header + 1

    def new_line(self, option, value, like=None):
        prefix = like.prefix if like is not None else option + ' = '
        return prefix + value + self.eol()

    def append_section(self, name, lines):
        """Add "[name]" plus lines at end of file; returns whether a blank line was added."""
        blank = bool(self.lines) and bool(self.lines[-1].strip())
        eol = self.eol()
        block = ([eol] if blank else []) + ['[%s]%s' % (name, eol)] + list(lines)
        self.insert_lines(len(self.lines), block)
        return blank


# ---------------------------------------------------------------------------
# validation


def validate(params):
    """Fail on bad combinations before anything is read or written."""
    kind = params.get('kind') or 'scalar'
    state = params.get('state') or 'present'
    section = params.get('section')
    option = params.get('option')
    value = params.get('value')
    if kind not in KINDS:
        raise IniError('kind must be one of %s' % ', '.join(KINDS))
    if state not in STATES:
        raise IniError('state must be one of %s' % ', '.join(STATES))
    if not section or any(c in section for c in '\r\n') or section != section.strip():
        raise IniError('section must be a non-empty name without newlines or surrounding blanks')
    if not option or option != option.strip() or any(c in option for c in '=:\r\n') or option[0] in '[#;':
        raise IniError(
            "option must be a non-empty name without '=', ':', newlines "
            "or surrounding blanks, not starting with '[', '#' or ';'"
        )
    if params.get('position') is not None and kind != 'list':
        raise IniError('position is only valid with kind=list')
    if params.get('position') not in (None,) + POSITIONS:
        raise IniError('position must be one of %s' % ', '.join(POSITIONS))
    if params.get('default') and kind == 'scalar':
        raise IniError('default is only valid with kind=list or kind=multi')
    if value is None and (state == 'present' or kind != 'scalar'):
        raise IniError('value is required with state=%s kind=%s' % (state, kind))
    items = [value] + list(params.get('default') or [])
    for item in items:
        if item is None:
            continue
        if any(c in item for c in '\r\n'):
            raise IniError('value and default must not contain newlines')
        if item != item.strip():
            raise IniError('value and default must not start or end with blanks')
        if kind == 'list' and (',' in item or not item):
            raise IniError('a list member must be non-empty and must not contain a comma')


# ---------------------------------------------------------------------------
# ledger helpers


def _digest(value):
    return hashlib.sha256(value.encode('utf-8', 'surrogateescape')).hexdigest()


def empty_file_ledger():
    return {'sections': {}, 'options': {}}


def load_ledger(ledger_path):
    """The whole ledger (all files); an empty one when the file does not exist."""
    return read_ledger(ledger_path)[0]


def read_ledger(ledger_path):
    """(ledger, migrated): migrated is true when an older version was converted in memory."""
    if not os.path.exists(ledger_path):
        return {'version': LEDGER_VERSION, 'files': {}}, False
    with open(ledger_path, 'r') as handle:
        try:
            data = json.load(handle)
        except ValueError as exc:
            raise IniError('%s: not valid JSON: %s' % (ledger_path, exc))
    if not isinstance(data, dict) or not isinstance(data.get('files'), dict):
        raise IniError('%s: not an INI ledger' % ledger_path)
    if data.get('version') not in LEDGER_VERSIONS_READ:
        raise IniError(
            '%s: ledger version %r, this collection reads versions %s only'
            % (ledger_path, data.get('version'), ', '.join(str(v) for v in LEDGER_VERSIONS_READ))
        )
    migrated = data['version'] != LEDGER_VERSION
    if data['version'] == 1:
        # 1.0 / 1.1 kept a replaced password in clear, to put it back on absent.
        for file_record in data['files'].values():
            for key, record in (file_record.get('options') or {}).items():
                if 'previous_raw' in record and SENSITIVE_KEY_RE.search(key.rsplit('/', 1)[-1]):
                    del record['previous_raw']
                    record['previous_secret'] = True
        data['version'] = LEDGER_VERSION
    return data, migrated


def save_ledger(ledger_path, data):
    """Write atomically, readable by root only: it may hold previous secret values."""
    directory = os.path.dirname(os.path.abspath(ledger_path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(prefix='.ini_ledger.', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.write('\n')
        os.chmod(tmp, 0o600)
        os.rename(tmp, ledger_path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------
# the edits


class Result:
    def __init__(self, text, changed, msg, previous, ledger):
        self.text = text
        self.changed = changed
        self.msg = msg
        self.previous = previous
        self.ledger = ledger  # the file's ledger after the change


def _option_key(section, option):
    return '%s/%s' % (section, option)


def _add_to_section(doc, section, new_lines, file_record):
    """Insert new option lines in `section`, creating it at end of file if needed."""
    existing = doc.sections_named(section)
    if existing:
        doc.insert_lines(doc.insertion_point(existing[-1]), new_lines)
        return
    blank = doc.append_section(section, new_lines)
    file_record['sections'][section] = {'blank_before': blank}


def _note_preexisting(file_record, key, kind):
    """Remember that the operator already had it, so absent leaves it alone."""
    if key not in file_record['options']:
        file_record['options'][key] = {'kind': kind, 'preexisting': True}


def _pop_preexisting(file_record, key):
    record = file_record['options'].get(key)
    if record is not None and record.get('preexisting'):
        del file_record['options'][key]
        return True
    return False


def _scalar_present(doc, section, option, value, file_record, secret=False):
    entries = doc.entries_of(section, option)
    key = _option_key(section, option)
    if entries:
        # oslo.config uses the last occurrence of a duplicated key.
        entry = entries[-1]
        previous = entry.value
        if entry.value == value:
            _note_preexisting(file_record, key, 'scalar')
            return False, 'already set', previous
        record = file_record['options'].get(key)
        if record is None or record.get('kind') != 'scalar':
            record = {'kind': 'scalar', 'created': False}
            if secret:
                record['previous_secret'] = True
            else:
                record['previous_raw'] = entry.raw_value
        record['ours'] = _digest(value)
        file_record['options'][key] = record
        doc.set_raw_value(entry, value)
        return True, 'value changed', previous
    file_record['options'][key] = {'kind': 'scalar', 'created': True, 'ours': _digest(value)}
    _add_to_section(doc, section, [doc.new_line(option, value)], file_record)
    return True, 'option added', None


def _scalar_absent(doc, section, option, value, file_record, secret=False):
    """Put back what the ledger says; a secret edit's option never stays behind (ledger lost or not)."""
    key = _option_key(section, option)
    entries = doc.entries_of(section, option)
    entry = entries[-1] if entries else None
    previous = entry.value if entry else None
    if _pop_preexisting(file_record, key):
        return False, 'was there before us, left as is', previous
    record = file_record['options'].pop(key, None)
    if record is not None and entry is not None and _digest(entry.value) == record['ours']:
        if record['created'] or record.get('previous_secret'):
            doc.delete_lines(entry.start, entry.end)
            return True, 'option removed', previous
        doc.set_raw_value(entry, record['previous_raw'])
        return True, 'previous value restored', previous
    if entry is not None and secret:
        # No ledger record (lost ledger), or changed since (a rotated password): still ours to take.
        doc.delete_lines(entry.start, entry.end)
        return True, 'secret option removed', previous
    if record is not None:
        # Gone or changed by someone else since: theirs now.
        return False, 'value no longer ours, left as is', previous
    if entry is not None and value is not None and entry.value == value:
        doc.delete_lines(entry.start, entry.end)
        return True, 'option removed', previous
    return False, 'nothing of ours to remove', previous


def _join_member(raw, member):
    """Append a member, copying the separator style already used in the value.

    A list that ends with a comma keeps ending with one: ours goes before that comma, so that
    removing ours (with the separator in front of it) gives the operator's comma back.
    """
    body = raw.rstrip()
    tail = raw[len(body) :]
    if not body:
        return member + tail
    seps = _SEP_RE.findall(body)
    if body.endswith(','):
        final = seps[-1]
        sep = seps[-2] if len(seps) > 1 else final
        return body[: len(body) - len(final)] + sep + member + final + tail
    sep = seps[-1] if seps else ','
    return body + sep + member + tail


def _last_member(raw):
    members = list_members(raw)
    return members[-1] if members else None


def _drop_member(raw, index):
    """Remove the index-th comma-separated member together with one separator."""
    parts = _SEP_RE.split(raw)
    tokens = parts[0::2]
    seps = parts[1::2]
    if len(tokens) == 1:
        return ''
    if index > 0:
        del seps[index - 1]
    else:
        del seps[0]
    del tokens[index]
    out = tokens[0]
    for sep, tok in zip(seps, tokens[1:]):
        out += sep + tok
    return out


def _member_index(raw, member):
    tokens = _SEP_RE.split(raw)[0::2]
    for idx, tok in enumerate(tokens):
        if tok.strip() == member:
            return idx
    return None


def _insert_member(raw, index, member):
    parts = _SEP_RE.split(raw)
    tokens = parts[0::2]
    if not raw.strip():
        return member
    if index >= len(tokens):
        return _join_member(raw, member)
    seps = _SEP_RE.findall(raw)
    sep = seps[0] if seps else ','
    # Re-insert before the member now at `index`.
    out = ''
    for pos, tok in enumerate(tokens):
        if pos == index:
            lead = tok[: len(tok) - len(tok.lstrip())]
            out += lead + member + sep + tok.lstrip()
        else:
            out += tok
        if pos < len(tokens) - 1:
            out += parts[2 * pos + 1]
    return out


def _list_present(doc, section, option, value, position, default, file_record):
    key = _option_key(section, option)
    entries = doc.entries_of(section, option)
    if not entries:
        members = [d for d in (default or []) if d != value] + [value]
        file_record['options'][key] = {'kind': 'list', 'created': True, 'defaults': list(default or []), 'ours': value}
        _add_to_section(doc, section, [doc.new_line(option, ','.join(members))], file_record)
        return True, 'option added', None
    entry = entries[-1]
    previous = entry.members()
    idx = _member_index(entry.raw_value, value)
    is_last = _last_member(entry.raw_value) == value
    record = file_record['options'].get(key)
    if (idx is not None and position != 'last') or (position == 'last' and is_last):
        if _follow_defaults(doc, entry, value, default, record):
            return True, 'defaults added before ours', previous
        _note_preexisting(file_record, key, 'list')
        return False, 'already a member', previous
    if record is None or record.get('kind') != 'list':
        record = {'kind': 'list', 'created': False, 'before': entry.raw_value, 'ours': value, 'moved_from': idx}
    raw = entry.raw_value
    if idx is not None:
        raw = _drop_member(raw, idx)
        msg = 'member moved to the end'
    else:
        msg = 'member added'
    raw = _join_member(raw, value)
    record['after'] = raw
    file_record['options'][key] = record
    doc.set_raw_value(entry, raw)
    return True, msg, previous


def _follow_defaults(doc, entry, value, default, record):
    """A list line we created, still exactly as we wrote it, takes the defaults the edit now names
    (release 1.0 created plugin_dirs with Valet's directory alone, hiding Heat's own directories).
    An operator's edit of the line since makes it theirs: left alone. True when rewritten."""
    if not record or record.get('kind') != 'list' or not record.get('created') or default is None:
        return False
    wrote = [d for d in record.get('defaults') or [] if d != value] + [value]
    wanted = [d for d in default if d != value] + [value]
    if entry.members() != wrote or wanted == wrote:
        return False
    doc.set_raw_value(entry, ','.join(wanted))
    record['defaults'] = list(default)
    return True


def _list_absent(doc, section, option, value, file_record):
    key = _option_key(section, option)
    entries = doc.entries_of(section, option)
    if _pop_preexisting(file_record, key):
        return False, 'was there before us, left as is', (entries[-1].members() if entries else None)
    record = file_record['options'].pop(key, None)
    if not entries:
        return False, 'option not present', None
    entry = entries[-1]
    previous = entry.members()
    idx = _member_index(entry.raw_value, value)
    if record is None:
        if idx is None:
            return False, 'not a member', previous
        doc.set_raw_value(entry, _drop_member(entry.raw_value, idx))
        return True, 'member removed', previous
    if record['created']:
        rest = [m for m in previous if m != value]
        # Only the defaults we wrote (or nothing) left: the operator added no member, the line goes.
        if rest == [d for d in record['defaults'] if d != value] or not rest:
            doc.delete_lines(entry.start, entry.end)
            return True, 'option removed', previous
    elif entry.raw_value == record.get('after'):
        doc.set_raw_value(entry, record['before'])
        return True, 'previous value restored', previous
    if idx is None:
        return False, 'not a member', previous
    raw = _drop_member(entry.raw_value, idx)
    if record.get('moved_from') is not None:
        raw = _insert_member(raw, record['moved_from'], value)
        msg = 'member moved back'
    else:
        msg = 'member removed'
    if raw == entry.raw_value:
        return False, 'nothing of ours to remove', previous
    doc.set_raw_value(entry, raw)
    return True, msg, previous


def _multi_present(doc, section, option, value, default, file_record):
    key = _option_key(section, option)
    entries = doc.entries_of(section, option)
    previous = [e.value for e in entries]
    if value in previous:
        _note_preexisting(file_record, key, 'multi')
        return False, 'line already present', previous
    if entries:
        last = entries[-1]
        old = file_record['options'].get(key) or {}
        # Keep defaults materialised by an earlier run, still ours to remove.
        file_record['options'][key] = {'kind': 'multi', 'ours': value, 'defaults': old.get('defaults') or []}
        doc.insert_lines(last.end, [doc.new_line(option, value, like=last)])
        return True, 'line added', previous
    defaults = [d for d in (default or []) if d != value]
    file_record['options'][key] = {'kind': 'multi', 'ours': value, 'defaults': defaults}
    lines = [doc.new_line(option, v) for v in defaults + [value]]
    _add_to_section(doc, section, lines, file_record)
    return True, 'lines added' if defaults else 'line added', previous


def _multi_absent(doc, section, option, value, file_record):
    key = _option_key(section, option)
    entries = doc.entries_of(section, option)
    previous = [e.value for e in entries]
    if _pop_preexisting(file_record, key):
        return False, 'was there before us, left as is', previous
    record = file_record['options'].pop(key, None)
    ours = [e for e in entries if e.value == value]
    if not ours:
        return False, 'line not present', previous
    doc.delete_lines(ours[-1].start, ours[-1].end)
    msg = 'line removed'
    if record and record.get('defaults'):
        rest = doc.entries_of(section, option)
        # Only drop the defaults we wrote if nothing else joined them: they
        # then mean exactly what the absent option meant.
        if [e.value for e in rest] == record['defaults']:
            for entry in reversed(rest):
                doc.delete_lines(entry.start, entry.end)
            msg = 'lines removed'
    return True, msg, previous


def _sweep_sections(doc, file_record):
    """Remove sections we created once nothing is left in them."""
    changed, again = False, True
    while again:
        again = _sweep_once(doc, file_record)
        changed = changed or again
    return changed


def _sweep_once(doc, file_record):
    changed = False
    for name in list(file_record['sections']):
        empty = [s for s in doc.sections_named(name) if s.end == s.header + 1]
        # Only a lone, empty section is ours to remove: a name the operator repeated elsewhere in
        # the file may be theirs, and a section with lines in it holds something not ours.
        if len(doc.sections_named(name)) != 1 or not empty:
            if not doc.sections_named(name):
                del file_record['sections'][name]
            continue
        sec = empty[0]
        start = sec.header
        if file_record['sections'][name].get('blank_before') and start > 0 and not doc.lines[start - 1].strip():
            start -= 1
        doc.delete_lines(start, sec.end)
        del file_record['sections'][name]
        changed = True
    return changed


def apply_change(text, path, params, file_ledger=None):
    """Apply one oslo_ini change to `text`.

    `params`: section, option, value, kind, state, position, default (as the
    module's parameters).  `file_ledger`: this file's ledger record (not
    modified).  Returns a Result with the new text and the new record.
    """
    validate(params)
    file_record = copy.deepcopy(file_ledger) if file_ledger else empty_file_ledger()
    file_record.setdefault('sections', {})
    file_record.setdefault('options', {})
    doc = IniDocument(text, path)
    kind = params.get('kind') or 'scalar'
    state = params.get('state') or 'present'
    section, option, value = params['section'], params['option'], params.get('value')
    if kind == 'scalar':
        if state == 'present':
            out = _scalar_present(doc, section, option, value, file_record, bool(params.get('secret')))
        else:
            out = _scalar_absent(doc, section, option, value, file_record, bool(params.get('secret')))
    elif kind == 'list':
        if state == 'present':
            out = _list_present(
                doc, section, option, value, params.get('position') or 'any', params.get('default'), file_record
            )
        else:
            out = _list_absent(doc, section, option, value, file_record)
    else:
        if state == 'present':
            out = _multi_present(doc, section, option, value, params.get('default'), file_record)
        else:
            out = _multi_absent(doc, section, option, value, file_record)
    changed, msg, previous = out
    if state == 'absent' and _sweep_sections(doc, file_record):
        msg += '; empty section removed'
    new_text = doc.text()
    return Result(new_text, new_text != text, msg, previous, file_record)


# The keys of one edit, shared by the modules' O(edits) option (documented there).
EDIT_KEYS = ('section', 'option', 'value', 'kind', 'state', 'position', 'default', 'secret')
EDIT_SPEC = dict(
    section=dict(type='str', required=True),
    option=dict(type='str', required=True),
    value=dict(type='str'),
    kind=dict(type='str', choices=list(KINDS)),
    state=dict(type='str', choices=list(STATES)),
    position=dict(type='str', choices=list(POSITIONS)),
    default=dict(type='list', elements='str'),
    secret=dict(type='bool', default=False),
)


def edit_list(params):
    """The module's edits: O(edits), or the one edit its top-level options describe.

    An edit without a state takes the module's; a secret edit without a value takes secret_value.
    With params' literal (default true) values and defaults are escaped for oslo.config.
    """
    if params.get('edits') is not None:
        raw = params['edits']
    else:
        raw = [dict((k, params.get(k)) for k in EDIT_KEYS)]
    edits = []
    for item in raw:
        edit = dict((k, item.get(k)) for k in EDIT_KEYS)
        edit['kind'] = edit['kind'] or 'scalar'
        edit['state'] = edit['state'] or params.get('state') or 'present'
        edit['secret'] = bool(edit['secret'])
        if edit['secret'] and edit['value'] is None and edit['state'] == 'present':
            edit['value'] = params.get('secret_value')
        if params.get('literal', True):
            edit['value'] = literal(edit['value'])
            if edit['default']:
                edit['default'] = [literal(d) for d in edit['default']]
        edits.append(edit)
    return edits


def literal(value):
    """The text oslo.config reads back as `value`: its `$name` interpolation escaped as `$$`."""
    return value.replace('$', '$$') if isinstance(value, str) else value


def check_secret_mode(path, edits):
    """Refuse to put a secret into a file every user can read (symlinks followed: the target's mode)."""
    secret = ['[%s] %s' % (e['section'], e['option']) for e in edits if e['secret'] and e['state'] == 'present']
    if not secret or not os.path.exists(path):
        return
    mode = os.stat(path).st_mode & 0o7777
    if mode & 0o004:
        raise IniError(
            '%s is readable by every user (mode %04o) and would hold the secret %s: remove the read permission'
            ' for others first (chmod o-r %s)' % (path, mode, ', '.join(secret), path)
        )


def check_writable(path, size):
    """Fail unless the file's directory (symlinks followed) takes a new file of `size` bytes.

    What the module's write needs: a temporary file next to the real file, then a rename.
    """
    directory = os.path.dirname(os.path.realpath(path))
    try:
        fd, probe = tempfile.mkstemp(prefix='.oslo_ini.', dir=directory)
    except OSError as exc:
        raise IniError('%s: its directory %s is not writable: %s' % (path, directory, exc.strerror or exc))
    os.close(fd)
    os.unlink(probe)
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    if free < size:
        raise IniError('%s: its directory %s has %d bytes free, the new file needs %d' % (path, directory, free, size))


def write_atomic(path, data, move):
    """Write `data` next to the real file behind `path` and move it in with move(tmp, real).

    A symlink stays a link (its target gets the new text); a failed write (full disk) leaves no
    temporary file behind.
    """
    real = os.path.realpath(path)
    fd, tmp = tempfile.mkstemp(prefix='.oslo_ini.', dir=os.path.dirname(real))
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        move(tmp, real)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return real


def apply_changes(text, path, edits, file_ledger=None):
    """Apply a list of edits (each as apply_change's params) in order, as one change of the file.

    Returns (text, ledger, results) where results holds, per edit, its params' section/option/state
    and the edit's changed, msg and previous.  Every edit is validated before the first is applied.
    """
    for params in edits:
        validate(params)
    ledger = file_ledger
    results = []
    for params in edits:
        res = apply_change(text, path, params, ledger)
        text, ledger = res.text, res.ledger
        results.append(
            dict(
                section=params['section'],
                option=params['option'],
                state=params.get('state') or 'present',
                changed=res.changed,
                msg=res.msg,
                previous=res.previous,
            )
        )
    return text, ledger if ledger is not None else empty_file_ledger(), results


def read_values(text, path, options):
    """{"section/option": [values]} for the requested options only, plus section names."""
    doc = IniDocument(text, path)
    values = {}
    for name in options:
        if '/' not in name:
            raise IniError('%r: options must be given as "section/option"' % name)
        section, option = name.rsplit('/', 1)
        values[name] = doc.values_of(section, option)
    return doc.section_names(), values


def option_values(text, path, section, option):
    """Every value `section/option` has in text (used to mask secrets before and after a change)."""
    return IniDocument(text, path).values_of(section, option)


# Options whose values hold credentials in OpenStack files: masked in every
# diff, whoever asked, since the diff carries the whole file.
SENSITIVE_KEY_RE = re.compile(r'(password|passwd|secret|token|(^|_)key$|connection|transport_url)', re.IGNORECASE)


def redact(text, path):
    """Text with the values of credential-like options replaced by MASK (for diffs only)."""
    doc = IniDocument(text, path)
    lines = doc.lines
    for entry in reversed(doc.entries):
        if entry.raw_value and SENSITIVE_KEY_RE.search(entry.key):
            lines[entry.start : entry.end] = split_lines(entry.prefix + MASK + entry.trail)
    return ''.join(lines)


def mask(text, secrets):
    """Replace every secret string in text (longest first so substrings do not leak)."""
    if text is None:
        return None
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def decode(data):
    """bytes -> str that encodes back to the very same bytes."""
    return data.decode('utf-8', 'surrogateescape')


def encode(text):
    return text.encode('utf-8', 'surrogateescape')
