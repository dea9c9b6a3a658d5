#!/bin/sh
# Make `podman run` work for the test hosts, changing nothing where it already works.
#
#   tests/testhost/setup-podman.sh [IMAGE]
#
# IMAGE defaults to the debootstrapped base (built by build-image.sh --base-only,
# which needs no running container). Detection: a plain `podman run --rm IMAGE true`.
# If that fails because the sandbox forbids setrlimit (podman as root always puts
# nofile/nproc rlimits in the OCI spec), install tests/testhost/runc-norlimit as
# /usr/local/bin/runc-norlimit and make it podman's runtime through a
# containers.conf drop-in, so every podman call (molecule's included) uses it.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WRAPPER=/usr/local/bin/runc-norlimit
DROPIN=/etc/containers/containers.conf.d/50-valet-runc-norlimit.conf

IMAGE=${1:-$("$HERE/build-image.sh" --base-only)}

try_run() { podman run --rm --network none "$IMAGE" true >/tmp/valet-setup-podman.err 2>&1; }

if try_run; then
    if [ -f "$DROPIN" ]; then
        echo "setup-podman: podman run works (runtime: runc-norlimit from $DROPIN)"
    else
        echo "setup-podman: podman run works as is; nothing to do"
    fi
    exit 0
fi

if ! grep -qiE 'setrlimit|rlimit.*operation not permitted' /tmp/valet-setup-podman.err; then
    echo "setup-podman: podman run fails for a reason this script does not fix:" >&2
    cat /tmp/valet-setup-podman.err >&2
    exit 1
fi

echo "setup-podman: podman run fails on setting rlimits; installing $WRAPPER as podman's OCI runtime"
install -m 0755 "$HERE/runc-norlimit" "$WRAPPER"
mkdir -p "$(dirname "$DROPIN")"
cat >"$DROPIN" <<CONF
# Written by valet tests/testhost/setup-podman.sh: this sandbox forbids setrlimit,
# so runc is run through a wrapper that drops process.rlimits from the OCI spec.
[engine]
runtime = "runc-norlimit"
runtime_supports_json = ["crun", "runc", "runc-norlimit"]

[engine.runtimes]
runc-norlimit = ["$WRAPPER"]
CONF

if try_run; then
    echo "setup-podman: podman run works now (runtime runc-norlimit)"
else
    echo "setup-podman: podman run still fails with the wrapper:" >&2
    cat /tmp/valet-setup-podman.err >&2
    exit 1
fi
