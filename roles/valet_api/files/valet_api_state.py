"""What is there now on a valet-api host, read in one call by tasks/plan.yml (read only).

Prints one JSON object: the installed valet-api (version, or null) in the given Python, the digest
stamp of the staged source, who listens on the port (each listener's command line) and whether
valet-api answers GET / there. Standard library only: it runs before anything is installed.
argv[1]: JSON {"python": path, "stamp": path, "port": int}.
"""

import json
import os
import subprocess
import sys
import urllib.request


def installed(python):
    if not os.access(python, os.X_OK):
        return None
    code = (
        'import importlib.metadata as m\ntry: print(m.version("valet-api"))\nexcept m.PackageNotFoundError: print("")'
    )
    proc = subprocess.run([python, '-c', code], capture_output=True, text=True, cwd='/', check=False)
    return proc.stdout.strip() or None


def listening_inodes(port):
    """Socket inodes in state LISTEN on port (IPv4 and IPv6)."""
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == '0A' and int(local.rsplit(':', 1)[1], 16) == port:
                        inodes.add(inode)
        except OSError:
            continue
    return inodes


def cmdline(pid):
    try:
        with open('/proc/%s/cmdline' % pid, 'rb') as f:
            return f.read().split(b'\0')
    except OSError:
        return []


def listeners(port):
    """Command lines of the processes holding a listening socket on port."""
    inodes = listening_inodes(port)
    found, hidden = [], False
    if not inodes:
        return found
    pids = [pid for pid in os.listdir('/proc') if pid.isdigit()]
    for pid in pids:
        try:
            links = {os.readlink('/proc/%s/fd/%s' % (pid, fd)) for fd in os.listdir('/proc/%s/fd' % pid)}
        except OSError:
            # Another user's fds need CAP_SYS_PTRACE, which a container's root may lack.
            hidden = True
            continue
        if any('socket:[%s]' % i in links for i in inodes):
            found.append(b' '.join(cmdline(pid)).decode(errors='replace').strip())
    if not found and hidden:
        # Command lines stay readable: a uwsgi told to serve this port is taken for the holder.
        for pid in pids:
            argv = cmdline(pid)
            sockets = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == b'--http-socket']
            if any(s.rsplit(b':', 1)[-1] == str(port).encode() for s in sockets):
                found.append(b' '.join(argv).decode(errors='replace').strip())
    # A socket nobody in this namespace owns (another container, the kernel) still holds the port.
    return sorted(set(found)) or ['(unknown process)']


def answers(port):
    try:
        with urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=5) as resp:
            return resp.status in (200, 300)
    except urllib.error.HTTPError as exc:
        return exc.code == 300
    except Exception:
        return False


def main():
    args = json.loads(sys.argv[1])
    stamp = ''
    try:
        with open(args['stamp']) as f:
            stamp = f.read().strip()
    except OSError:
        pass
    print(
        json.dumps(
            {
                'version': installed(args['python']),
                'source_digest': stamp,
                'listeners': listeners(int(args['port'])),
                'answers': answers(int(args['port'])),
            }
        )
    )


if __name__ == '__main__':
    main()
