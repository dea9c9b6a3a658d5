"""valet.openstack.valet_verify, run the way Ansible runs it, against the real Heat 27 / Nova 34
of the test venv used as the "service Python", with real config files, real processes and logs.

The service processes are stand-ins (we have no database or message bus here), but the heat one
logs through Heat's own code: it loads the plugins with heat.engine.resources.initialise() under
oslo.log, exactly the lines heat-engine writes at start.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from ansible_env import run_ad_hoc

from ansible_collections.valet.openstack.plugins.module_utils import valet_probe
from ansible_collections.valet.openstack.plugins.module_utils.valet_probe_service import NOVA_FILTER_PATH

SERVICE_PY = os.environ.get('VALET_SERVICE_PYTHON', sys.executable)  # the test venv (.venv)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
VALET_HEAT_DIR = os.path.join(REPO, 'files', 'valet_os', 'etc', 'valet_os', 'heat')
SECRET = 'S3cr3t-never-shown'

pytestmark = pytest.mark.skipif(
    subprocess.run([SERVICE_PY, '-c', 'import heat, nova, valet_os'], capture_output=True, check=False).returncode != 0,
    reason='needs heat, nova and valet_os (pip install -e files/valet_os) in %s' % SERVICE_PY,
)


def run_module(collections_root, check=False, extra_env=None, **args):
    """`ansible localhost -m valet.openstack.valet_verify -a <json>` -> (result dict, raw output)."""
    args.setdefault('python', SERVICE_PY)
    # as on a controller: Python writes bytecode unless told otherwise
    env = dict(PYTHONDONTWRITEBYTECODE='', **(extra_env or {}))
    return run_ad_hoc('valet.openstack.valet_verify', args, collections_root, ['--check'] if check else [], env=env)


def checks(result):
    return {c['name']: c for c in result['checks']}


def write(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


# --------------------------------------------------------------------------- config files


def heat_conf(tmp_path, plugin_dirs=VALET_HEAT_DIR, hints='true', extra='', convergence=None):
    lines = ['[DEFAULT]'] + ([] if convergence is None else ['convergence_engine = %s' % convergence])
    if plugin_dirs is not None:
        lines.append('plugin_dirs = %s' % plugin_dirs)
    if hints is not None:
        lines.append('stack_scheduler_hints = %s' % hints)
    (tmp_path / 'environment.d').mkdir(exist_ok=True)
    lines += [
        'environment_dir = %s' % (tmp_path / 'environment.d'),
        extra,
        '[database]',
        'connection = mysql+pymysql://heat:%s@db/heat' % SECRET,
        '[valet]',
        'admin_password = %s' % SECRET,
    ]
    return write(tmp_path / 'heat.conf', '\n'.join(lines) + '\n')


def nova_conf(
    tmp_path,
    available=('nova.scheduler.filters.all_filters', NOVA_FILTER_PATH),
    enabled='ComputeFilter,ImagePropertiesFilter,ValetFilter',
):
    lines = ['[DEFAULT]', 'transport_url = rabbit://nova:%s@mq:5672/' % SECRET, '[filter_scheduler]']
    lines += ['available_filters = %s' % a for a in available]
    if enabled is not None:
        lines.append('enabled_filters = %s' % enabled)
    lines += ['[valet]', 'admin_password = %s' % SECRET]
    return write(tmp_path / 'nova.conf', '\n'.join(lines) + '\n')


# --------------------------------------------------------------------------- heat


def test_heat_present(collections_root, tmp_path):
    result, raw = run_module(collections_root, component='heat', config_file=heat_conf(tmp_path), check_process=False)
    assert result['ok'] is True and result['changed'] is False, result['msg']
    version = subprocess.run(
        [SERVICE_PY, '-c', 'from heat import version; print(version.version_info.version_string())'],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    assert result['version'] == version
    found = checks(result)
    assert set(found) == {
        'config',
        'stack_scheduler_hints',
        'resource_registry',
        'lifecycle_plugin',
        'convergence_hook',
    }
    assert found['convergence_hook']['detail'] == ('Heat %s: convergence hook active (convergence engine)' % version)
    assert os.path.join(VALET_HEAT_DIR, 'GroupAssignment.py') in found['resource_registry']['detail']
    assert SECRET not in raw


def test_heat_registry_follows_plugin_dirs(collections_root, tmp_path):
    """A resource plugin of our own in a tmp dir: the check follows what Heat loads, not a file name."""
    plugins = tmp_path / 'plugins'
    plugins.mkdir()
    write(
        plugins / 'my_assignment.py',
        '''
        from heat.engine import resource

        class Mine(resource.Resource):
            properties_schema = {}

        def resource_mapping():
            return {'ATT::Valet::GroupAssignment': Mine}
        ''',
    )
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        config_file=heat_conf(tmp_path, plugin_dirs=str(plugins)),
    )
    assert result['ok'] is True, result['msg']
    assert 'my_assignment' in checks(result)['resource_registry']['detail']
    assert os.listdir(plugins) == ['my_assignment.py']  # read only: no __pycache__ left behind


def test_heat_plugin_dirs_missing(collections_root, tmp_path):
    conf = heat_conf(tmp_path, plugin_dirs=None)
    result, raw = run_module(collections_root, component='heat', config_file=conf, check_process=False)
    assert result['failed'] is True and result['ok'] is False
    found = checks(result)
    assert found['resource_registry']['ok'] is False
    assert 'not in Heat' in found['resource_registry']['detail']
    assert found['lifecycle_plugin']['ok'] is True  # the entry point does not depend on plugin_dirs
    assert 'resource_registry' in result['msg'] and SECRET not in raw


def test_heat_broken_plugin_is_reported(collections_root, tmp_path):
    plugins = tmp_path / 'plugins'
    plugins.mkdir()
    write(plugins / 'GroupAssignment.py', 'import valet_os.no_such_module\n')
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        config_file=heat_conf(tmp_path, plugin_dirs=str(plugins)),
    )
    detail = checks(result)['resource_registry']['detail']
    assert result['ok'] is False
    assert 'heat-engine would not start' in detail and 'no_such_module' in detail


def test_heat_scheduler_hints_off(collections_root, tmp_path):
    result, _ = run_module(
        collections_root, component='heat', check_process=False, config_file=heat_conf(tmp_path, hints=None)
    )
    assert result['ok'] is False
    assert [c['name'] for c in result['checks'] if not c['ok']] == ['stack_scheduler_hints']


@pytest.mark.parametrize('convergence', ['true', 'false'])
def test_heat_either_engine_is_fine(collections_root, tmp_path, convergence):
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        config_file=heat_conf(tmp_path, convergence=convergence),
    )
    assert result['ok'] is True, result['msg']
    engine = 'convergence' if convergence == 'true' else 'legacy'
    assert checks(result)['convergence_hook']['detail'].endswith('(%s engine)' % engine)


def _heat_without_pre_converge(tmp_path):
    """PYTHONPATH for the probe: a sitecustomize that gives Heat a traversal of another shape."""
    site = tmp_path / 'site'
    site.mkdir()
    write(
        site / 'sitecustomize.py',
        """
        from heat.engine import stack

        def _converge_create_or_update(self, abandon=False):
            raise AssertionError('not called by the probe')

        stack.Stack._converge_create_or_update = _converge_create_or_update
        """,
    )
    return {'PYTHONPATH': str(site)}


@pytest.mark.parametrize('convergence,ok', [('true', False), ('false', True)])
def test_heat_whose_traversal_differs(collections_root, tmp_path, convergence, ok):
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        config_file=heat_conf(tmp_path, convergence=convergence),
        extra_env=_heat_without_pre_converge(tmp_path),
    )
    detail = checks(result)['convergence_hook']['detail']
    assert result['ok'] is ok, result['msg']
    assert checks(result)['convergence_hook']['ok'] is ok
    assert detail.startswith('Heat %s is not supported by the Valet convergence hook' % result['version'])
    assert 'has no pre_converge parameter' in detail


def test_heat_absent_fails_while_entry_point_installed(collections_root, tmp_path):
    # plugin_dirs cleaned but the package (entry point) still installed: not a clean uninstall
    result, _ = run_module(
        collections_root,
        component='heat',
        expect='absent',
        check_process=False,
        config_file=heat_conf(tmp_path, plugin_dirs=None, hints=None),
    )
    found = checks(result)
    assert found['resource_registry']['ok'] is True
    assert found['lifecycle_plugin']['ok'] is False
    assert 'still installed' in found['lifecycle_plugin']['detail']


@pytest.fixture(scope='module')
def python_without_valet(tmp_path_factory):
    """The service Python as it is after `pip uninstall valet-openstack`, without touching the
    shared venv: a site dir mirroring its site-packages minus valet's files."""
    import site

    root = tmp_path_factory.mktemp('novalet')
    site_dir = root / 'site'
    site_dir.mkdir()
    real = [p for p in site.getsitepackages() if os.path.isdir(os.path.join(p, 'heat'))][0]
    for name in os.listdir(real):
        if 'valet' not in name.lower():
            os.symlink(os.path.join(real, name), site_dir / name)
    boot = write(
        root / 'boot.py',
        '''
        import site, sys
        site.addsitedir(%r)
        code = sys.argv[2]
        sys.argv = ['-c'] + sys.argv[3:]
        exec(compile(code, '<string>', 'exec'), {'__name__': '__main__'})
        '''
        % str(site_dir),
    )
    wrapper = root / 'python'
    wrapper.write_text('#!/bin/sh\nexec %s -S %s "$@"\n' % (sys.executable, boot))
    wrapper.chmod(0o755)
    assert subprocess.run([str(wrapper), '-c', 'import valet_os'], capture_output=True, check=False).returncode != 0
    return str(wrapper)


def test_heat_absent_after_uninstall(collections_root, tmp_path, python_without_valet):
    result, _ = run_module(
        collections_root,
        component='heat',
        expect='absent',
        check_process=False,
        python=python_without_valet,
        config_file=heat_conf(tmp_path, plugin_dirs=None, hints=None),
    )
    assert result['ok'] is True, result['msg']
    # ... and the same host still holding the resource plugin dir is caught
    result, _ = run_module(
        collections_root,
        component='heat',
        expect='absent',
        check_process=False,
        python=python_without_valet,
        config_file=heat_conf(tmp_path),
    )
    assert result['ok'] is False
    assert checks(result)['resource_registry']['ok'] is False


def test_heat_present_without_package(collections_root, tmp_path, python_without_valet):
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        python=python_without_valet,
        config_file=heat_conf(tmp_path),
    )
    assert result['ok'] is False
    assert 'no entry point valet.lifecycle_plugin' in checks(result)['lifecycle_plugin']['detail']


def test_heat_lifecycle_plugin_heat_cannot_use(collections_root, tmp_path, python_without_valet):
    """An entry point that loads but whose plugin fails to initialise: Heat logs and skips it."""
    lib = tmp_path / 'lib'
    (lib / 'brokenvalet-1.0.dist-info').mkdir(parents=True)
    write(lib / 'brokenvalet-1.0.dist-info' / 'METADATA', 'Metadata-Version: 2.1\nName: brokenvalet\nVersion: 1.0\n')
    write(
        lib / 'brokenvalet-1.0.dist-info' / 'entry_points.txt',
        '[heat.stack_lifecycle_plugins]\nvalet.lifecycle_plugin = brokenvalet:Plugin\n',
    )
    write(
        lib / 'brokenvalet.py',
        '''
        from heat.engine import lifecycle_plugin

        class Plugin(lifecycle_plugin.LifecyclePlugin):
            def __init__(self):
                raise RuntimeError('no [valet] url')
        ''',
    )
    result, _ = run_module(
        collections_root,
        component='heat',
        check_process=False,
        python=python_without_valet,
        config_file=heat_conf(tmp_path),
        extra_env={'PYTHONPATH': str(lib)},
    )
    found = checks(result)
    assert found['lifecycle_plugin']['ok'] is False
    assert 'NOT used' in found['lifecycle_plugin']['detail']


# --------------------------------------------------------------------------- nova


def test_nova_present(collections_root, tmp_path):
    result, raw = run_module(collections_root, component='nova', config_file=nova_conf(tmp_path), check_process=False)
    assert result['ok'] is True, result['msg']
    assert set(checks(result)) == {'config', 'available_filters', 'enabled_filters', 'filter_handler'}
    assert 'valet_os/nova/valet_filter.py' in checks(result)['filter_handler']['detail']
    assert (
        result['version'].split('.')[0]
        == subprocess.run(
            [SERVICE_PY, '-c', 'from nova import version; print(version.version_string())'],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split('.')[0]
    )
    assert SECRET not in raw


def test_nova_valet_not_last(collections_root, tmp_path):
    conf = nova_conf(tmp_path, enabled='ComputeFilter,ValetFilter,ImagePropertiesFilter')
    result, _ = run_module(collections_root, component='nova', config_file=conf, check_process=False)
    found = checks(result)
    assert result['ok'] is False
    assert found['enabled_filters']['ok'] is False and 'not last' in found['enabled_filters']['detail']
    assert found['filter_handler']['ok'] is True  # nova would start, just filter in the wrong place


def test_nova_not_available(collections_root, tmp_path):
    conf = nova_conf(tmp_path, available=('nova.scheduler.filters.all_filters',))
    result, _ = run_module(collections_root, component='nova', config_file=conf, check_process=False)
    found = checks(result)
    assert found['available_filters']['ok'] is False
    assert found['filter_handler']['ok'] is False
    assert 'SchedulerHostFilterNotFound: ValetFilter' in found['filter_handler']['detail']
    assert 'nova.conf' in result['msg']


def test_nova_foreign_valet_filter(collections_root, tmp_path):
    """A ValetFilter class from another module (an older Valet's path) is not ours."""
    lib = tmp_path / 'lib'
    lib.mkdir()
    write(
        lib / 'oldvalet.py',
        '''
        from nova.scheduler import filters

        class ValetFilter(filters.BaseHostFilter):
            def host_passes(self, host_state, spec):
                return True
        ''',
    )
    conf = nova_conf(tmp_path, available=('nova.scheduler.filters.all_filters', 'oldvalet.ValetFilter'))
    result, _ = run_module(
        collections_root, component='nova', config_file=conf, check_process=False, extra_env={'PYTHONPATH': str(lib)}
    )
    found = checks(result)
    assert found['available_filters']['ok'] is False
    assert found['filter_handler']['ok'] is False
    assert 'not among the classes Nova loads' in found['filter_handler']['detail']


def test_nova_unknown_filter_breaks_handler(collections_root, tmp_path):
    conf = nova_conf(
        tmp_path,
        available=('nova.scheduler.filters.all_filters', NOVA_FILTER_PATH, 'valet_os.nova.valet_filter.NoSuchFilter'),
    )
    result, _ = run_module(collections_root, component='nova', config_file=conf, check_process=False)
    found = checks(result)
    assert found['available_filters']['ok'] is True and found['enabled_filters']['ok'] is True
    assert found['filter_handler']['ok'] is False
    assert 'NoSuchFilter' in found['filter_handler']['detail']


def test_nova_absent(collections_root, tmp_path, python_without_valet):
    clean = nova_conf(
        tmp_path, available=('nova.scheduler.filters.all_filters',), enabled='ComputeFilter,ImagePropertiesFilter'
    )
    result, _ = run_module(
        collections_root,
        component='nova',
        expect='absent',
        config_file=clean,
        check_process=False,
        python=python_without_valet,
    )
    assert result['ok'] is True, result['msg']
    # a leftover enabled ValetFilter after the package is gone: nova-scheduler would die
    leftover = nova_conf(tmp_path, available=('nova.scheduler.filters.all_filters',))
    result, _ = run_module(
        collections_root,
        component='nova',
        expect='absent',
        config_file=leftover,
        check_process=False,
        python=python_without_valet,
    )
    found = checks(result)
    assert found['enabled_filters']['ok'] is False and found['filter_handler']['ok'] is False


def test_config_errors_hide_secrets(collections_root, tmp_path):
    # the malformed line itself holds the secret (a forgotten '=')
    conf = write(
        tmp_path / 'nova.conf', '[DEFAULT]\ntransport_url = rabbit://x:%s@mq\npassword %s\n' % (SECRET, SECRET)
    )
    result, raw = run_module(collections_root, component='nova', config_file=conf, check_process=False)
    assert result['ok'] is False and checks(result)['config']['ok'] is False
    assert conf in result['msg'] and SECRET not in raw
    assert 'found in assignment' in checks(result)['config']['detail']  # the reason stays
    result, _ = run_module(
        collections_root, component='heat', config_file=str(tmp_path / 'nope.conf'), check_process=False
    )
    assert 'nope.conf does not exist' in result['msg']
    result, _ = run_module(
        collections_root,
        component='heat',
        config_file=heat_conf(tmp_path),
        python=str(tmp_path / 'no-python'),
        check_process=False,
    )
    assert 'no-python is not an executable' in result['msg']


# --------------------------------------------------------------------------- process and log

ENGINE = '''
import sys, time
from oslo_config import cfg
from oslo_log import log as logging
from heat.common import config  # noqa
logging.register_options(cfg.CONF)
cfg.CONF(['--config-file', sys.argv[1], '--log-file', sys.argv[2]], project='heat')
logging.setup(cfg.CONF, 'heat')
time.sleep(float(sys.argv[3]))          # a slow start
from heat.engine import resources
try:
    resources.initialise()              # logs "Registered: ..." as heat-engine does
except Exception:
    logging.getLogger('heat.engine.service').exception('engine failed to start')
time.sleep(120)
'''


def engine_script(tmp_path, name):
    # Runs as "<python> <dir>/heat-engine-N ...": the service name is argv[1], like Debian's
    # "/usr/bin/python3 /usr/bin/heat-engine" (a venv python cannot take another argv[0]).
    script = tmp_path / name
    script.write_text('#!%s\n%s' % (SERVICE_PY, ENGINE))
    script.chmod(0o755)
    return str(script)


@pytest.fixture
def start_service(tmp_path):
    started = []

    def start(name, *argv):
        # with a name, argv[0] is set to it (`exec -a`), as for a console script
        argv = ['bash', '-c', 'exec -a %s "$@"' % name, 'x'] + list(argv) if name else list(argv)
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:  # a test may have stopped it already
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()


def test_heat_engine_running_and_logged(collections_root, tmp_path, start_service):
    conf = heat_conf(tmp_path)
    log = tmp_path / 'heat-engine.log'
    log.write_text('2020-01-01 00:00:00.000 1 ERROR heat.engine Failed to import module GroupAssignment valet\n')
    offset = log.stat().st_size  # the old error is before the restart
    name = 'heat-engine-%d' % os.getpid()
    # a slow start: the engine logs nothing for 8 s, the module must wait for its start lines
    engine = start_service(None, engine_script(tmp_path, name), conf, str(log), '8')
    result, _ = run_module(
        collections_root,
        component='heat',
        config_file=conf,
        service_name=name,
        log_file=str(log),
        log_offset=offset,
        settle_timeout=90,
    )
    assert result['ok'] is True, result['msg']
    found = checks(result)
    assert found['log_registered']['ok'] is True and 'registration logged' in found['log_registered']['detail']
    assert found['process']['ok'] is True and str(engine.pid) in found['process']['detail']


def test_heat_engine_traceback_after_offset(collections_root, tmp_path, start_service):
    plugins = tmp_path / 'plugins'
    plugins.mkdir()
    write(plugins / 'GroupAssignment.py', 'import valet_os.no_such_module\n')
    conf = heat_conf(tmp_path, plugin_dirs=str(plugins))
    log = tmp_path / 'heat-engine.log'
    name = 'heat-engine-%d' % os.getpid()
    start_service(None, engine_script(tmp_path, name), conf, str(log), '0')
    result, _ = run_module(
        collections_root, component='heat', config_file=conf, service_name=name, log_file=str(log), settle_timeout=90
    )
    found = checks(result)
    assert found['log_errors']['ok'] is False
    assert str(log) in found['log_errors']['detail']
    assert 'valet_os' in found['log_errors']['detail'] or 'Failed to import' in found['log_errors']['detail']


def test_heat_info_off_start_line_not_awaited(collections_root, tmp_path, start_service):
    conf = heat_conf(tmp_path, extra='default_log_levels = heat=WARN,amqp=WARN')
    name = 'heat-engine-%d' % os.getpid()
    start_service(name, 'sleep', '120')
    log = write(tmp_path / 'heat-engine.log', '')
    result, _ = run_module(
        collections_root, component='heat', config_file=conf, service_name=name, log_file=log, settle_timeout=60
    )
    assert result['ok'] is True, result['msg']
    found = checks(result)
    assert 'off in the config' in found['log_started']['detail']
    assert 'registration not visible' in found['log_registered']['detail']


def test_service_not_running(collections_root, tmp_path):
    log = write(tmp_path / 'nova-scheduler.log', '')
    result, _ = run_module(
        collections_root,
        component='nova',
        config_file=nova_conf(tmp_path),
        service_name='nova-scheduler-%d' % os.getpid(),
        log_file=log,
        settle_timeout=2,
    )
    found = checks(result)
    assert found['process']['ok'] is False and found['log_started']['ok'] is False
    assert [c['ok'] for c in result['checks'][:4]] == [True] * 4  # config checks still pass


def test_nova_log_and_check_mode(collections_root, tmp_path, start_service):
    name = 'nova-scheduler-%d' % os.getpid()
    conf = nova_conf(tmp_path)
    sleeper = start_service(name, 'sleep', '120')
    log = tmp_path / 'nova-scheduler.log'
    log.write_text('2026-01-01 10:00:00.000 7 INFO nova.service [-] Starting scheduler node (version 34.0.0)\n')
    offset = log.stat().st_size
    with log.open('a') as f:
        f.write('2026-01-01 10:05:00.000 9 INFO nova.service [-] Starting scheduler node (version 34.0.0)\n')
    args = dict(
        component='nova',
        config_file=conf,
        service_name=name,
        log_file=str(log),
        log_offset=offset,
        settle_timeout=30,
    )
    result, _ = run_module(collections_root, check=True, **args)
    assert result['ok'] is True and result['changed'] is False, result['msg']
    assert checks(result)['process']['detail'] == '%s running as pid %d' % (name, sleeper.pid)

    with log.open('a') as f:  # a bare traceback (stderr into the log) mentioning the filter
        f.write(
            'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
            'nova.exception.SchedulerHostFilterNotFound: Scheduler Host Filter ValetFilter could not be found.\n'
        )
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is False
    assert 'line 4 after byte %d' % offset in checks(result)['log_errors']['detail']


def test_proof_reused_while_config_and_processes_stay(collections_root, tmp_path, start_service):
    """proof_cache: a passed proof is reported again while nothing it depends on changed; an edit,
    a restart, a failed proof or check mode never reuse or write a stale one."""
    name = 'nova-scheduler-%d' % os.getpid()
    cache = tmp_path / 'state' / 'verified.json'
    conf = nova_conf(tmp_path)
    sleeper = start_service(name, 'sleep', '120')
    args = dict(
        component='nova', config_file=conf, service_name=name, log_file='', settle_timeout=30, proof_cache=str(cache)
    )

    result, _ = run_module(collections_root, check=True, **args)
    assert result['ok'] is True and 'proof' not in checks(result) and not cache.exists()
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is True and 'filter_handler' in checks(result) and result['changed'] is False
    assert os.stat(str(cache)).st_mode & 0o777 == 0o600 and SECRET not in cache.read_text()

    result, _ = run_module(collections_root, **args)  # nothing changed: the earlier proof holds
    assert list(checks(result)) == ['proof'] and result['ok'] is True, result['msg']
    assert 'proven at' in result['msg'] and result['version']

    with open(conf, 'a') as f:  # an edit of the config: prove again, here and failing
        f.write('[filter_scheduler]\nenabled_filters = ComputeFilter\n')
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is False and 'proof' not in checks(result)

    conf = nova_conf(tmp_path)  # the bytes proven before, but the service restarted meanwhile
    os.killpg(sleeper.pid, signal.SIGTERM)
    sleeper.wait()
    start_service(name, 'sleep', '120')
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is True and 'proof' not in checks(result)
    result, _ = run_module(collections_root, **args)
    assert list(checks(result)) == ['proof']


def test_process_older_than_its_config_fails(collections_root, tmp_path, start_service):
    """Issue 24.3: files right, service started before they last changed (a run interrupted between
    the edit and the restart): the running process never read them, so nothing is proven; a
    restart after the change passes. Also with a proof recorded before the change."""
    name = 'nova-scheduler-%d' % os.getpid()
    conf = nova_conf(tmp_path)
    sleeper = start_service(name, 'sleep', '120')
    time.sleep(0.2)
    args = dict(
        component='nova',
        config_file=conf,
        service_name=name,
        log_file='',
        settle_timeout=30,
        proof_cache=str(tmp_path / 'verified.json'),
    )
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is True and checks(result)['process_current']['ok'] is True, result['msg']

    nova_conf(tmp_path)  # the same bytes written again after the start: an edit not applied yet
    result, _ = run_module(collections_root, **args)
    found = checks(result)
    assert result['ok'] is False and found['process_current']['ok'] is False, result['msg']
    assert 'pid %d' % sleeper.pid in found['process_current']['detail']
    assert 'restart it' in found['process_current']['detail'] and conf in found['process_current']['detail']

    os.killpg(sleeper.pid, signal.SIGTERM)
    sleeper.wait()
    start_service(name, 'sleep', '120')
    result, _ = run_module(collections_root, **args)
    assert result['ok'] is True and checks(result)['process_current']['ok'] is True, result['msg']


def test_components_in_one_call(collections_root, tmp_path, start_service):
    """components: a host's two services in one call, each with its own result and proof record;
    one that fails fails the call, and the other's result stays as it is."""
    heat_name, nova_name = 'heat-engine-%d' % os.getpid(), 'nova-scheduler-%d' % os.getpid()
    heat = dict(component='heat', config_file=heat_conf(tmp_path), service_name=heat_name, log_file='')
    nova = dict(component='nova', config_file=nova_conf(tmp_path), service_name=nova_name, log_file='')
    start_service(heat_name, 'sleep', '120')
    start_service(nova_name, 'sleep', '120')
    args = dict(components=[heat, nova], settle_timeout=30, proof_cache=str(tmp_path / 'verified.json'))

    result, raw = run_module(collections_root, **args)
    assert result['ok'] is True and result['changed'] is False, result['msg']
    assert [r['component'] for r in result['components']] == ['heat', 'nova']
    assert 'resource_registry' in checks(result['components'][0])
    assert 'filter_handler' in checks(result['components'][1])
    assert result['msg'] == ' | '.join(r['msg'] for r in result['components'])
    assert SECRET not in raw

    result, _ = run_module(collections_root, **args)  # both proofs recorded, both reused
    assert [list(checks(r)) for r in result['components']] == [['proof'], ['proof']], result['msg']

    with open(nova['config_file'], 'a') as f:
        f.write('[filter_scheduler]\nenabled_filters = ComputeFilter\n')
    result, _ = run_module(collections_root, **args)
    assert result['failed'] is True and result['ok'] is False
    heat_result, nova_result = result['components']
    assert heat_result['ok'] is True and list(checks(heat_result)) == ['proof']
    assert nova_result['ok'] is False and 'nova verification failed' in result['msg']

    result, _ = run_module(collections_root, component='heat', **args)
    assert result['failed'] is True and 'mutually exclusive' in result['msg']


# --------------------------------------------------------------------------- helpers, in-process


def test_scan_log_records(tmp_path):
    log = tmp_path / 'x.log'
    log.write_text(
        '2026-01-01 10:00:00.000 7 ERROR oslo.messaging [-] Traceback (most recent call last):\n'
        '2026-01-01 10:00:00.000 7 ERROR oslo.messaging   File "amqp.py", line 3\n'
        '2026-01-01 10:00:01.000 7 INFO heat.engine [-] loading valet plugin\n'
        '2026-01-01 10:00:02.000 7 ERROR heat.engine [-] Traceback (most recent call last):\n'
        '2026-01-01 10:00:02.000 7 ERROR heat.engine   File "/x/valet_os/heat/plugins.py", line 3\n'
    )
    result = valet_probe.scan_log(str(log), 0, 'heat')
    assert result['offending'].startswith('line 5 after byte 0:')
    result = valet_probe.scan_log(str(log), log.stat().st_size + 10, 'heat')  # rotated: read from 0
    assert result['rotated'] is True and result['offending']


def test_find_processes_ignores_arguments(start_service):
    name = 'heat-engine-%d' % os.getpid()
    proc = start_service(None, 'bash', '-c', 'sleep 120; true', name)  # name only as a later argument
    real = start_service(name, 'sleep', '120')
    deadline = time.monotonic() + 10
    while real.pid not in valet_probe.find_processes(name) and time.monotonic() < deadline:
        time.sleep(0.1)
    found = valet_probe.find_processes(name)
    assert real.pid in found and proc.pid not in found
