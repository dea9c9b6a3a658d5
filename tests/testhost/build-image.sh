#!/bin/sh
# Build the podman test-host image for one Debian release from one recipe:
#   bookworm (default, OpenStack Zed)  localhost/valet-testhost:<recipe hash> (+ :latest)
#   trixie (OpenStack 2025.1)          localhost/valet-testhost-trixie:<recipe hash> (+ :latest)
#
#   tests/testhost/build-image.sh [--release bookworm|trixie]              base + test-host image
#   tests/testhost/build-image.sh [--release bookworm|trixie] --base-only  only the Debian base
# The release may also come from VALET_TESTHOST_RELEASE (the argument wins).
#
# Nothing is pulled from a registry: the base is made by debootstrap from the
# same Debian mirror this machine's apt uses, then `podman import`ed.
# Both images are reused when their hash matches ("cached").
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SUITE=${VALET_TESTHOST_RELEASE:-bookworm}
BASE_ONLY=
while [ $# -gt 0 ]; do
    case $1 in
        --release) SUITE=${2:?--release needs bookworm or trixie}; shift 2 ;;
        --release=*) SUITE=${1#--release=}; shift ;;
        --base-only) BASE_ONLY=1; shift ;;
        *) echo "usage: $0 [--release bookworm|trixie] [--base-only]" >&2; exit 2 ;;
    esac
done
# localhost/valet-testhost:latest stays bookworm: every scenario and the demo default to it.
case $SUITE in
    bookworm) IMAGE=localhost/valet-testhost ;;
    trixie) IMAGE=localhost/valet-testhost-trixie ;;
    *) echo "build-image: unknown release $SUITE (bookworm or trixie)" >&2; exit 2 ;;
esac
CACHE=${VALET_TESTHOST_CACHE:-/var/tmp/valet-testhost}

log() { printf '%s\n' "build-image: $*" >&2; }

# The first Debian main archive apt is configured with (deb822 or one-line format);
# the security archive is added inside the image from the same host name.
detect_mirror() {
    m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
        sed -n -e 's/^URIs:[[:space:]]*\(http[^[:space:]]*\)/\1/p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\(http[^[:space:]]*\).*/\2/p' |
        grep -v -e security -e nodesource -e google | grep '/debian/*$' | head -n 1)
    echo "${m:-http://deb.debian.org/debian}" | sed 's:/*$::'
}
MIRROR=${VALET_TESTHOST_MIRROR:-$(detect_mirror)}

hash_of() { sha256sum | cut -c1-12; }

build_base() {
    base_hash=$(printf 'debootstrap --variant=minbase --include=python3,ca-certificates %s %s\n' "$SUITE" "$MIRROR" | hash_of)
    BASE=localhost/valet-$SUITE:$base_hash
    if podman image exists "$BASE"; then
        log "base $BASE cached"
        return
    fi
    start=$(date +%s)
    root=$CACHE/rootfs-$base_hash
    rm -rf "$root"; mkdir -p "$root"
    log "debootstrap $SUITE from $MIRROR into $root"
    debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap-$base_hash.log" 2>&1 ||
        { tail -n 20 "$CACHE/debootstrap-$base_hash.log" >&2; exit 1; }
    # apt lists and caches only make the image bigger; apt-get update runs in the build.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | podman import -q - "$BASE" >/dev/null
    rm -rf "$root"
    log "base $BASE built in $(( $(date +%s) - start ))s"
}

mkdir -p "$CACHE"
build_base
if [ -n "$BASE_ONLY" ]; then
    echo "$BASE"
    exit 0
fi

# RUN steps need a working `podman run` (rlimit workaround where the sandbox needs it).
"$HERE/setup-podman.sh" "$BASE" >&2

EMULATOR=$REPO/tools/valet_api_emulator.py
recipe_hash=$( {
    echo "$BASE"
    cat "$HERE/Containerfile" "$HERE/debconf-preseed.txt" "$HERE/testhost-init" "$HERE/testhost-up" "$HERE/testhost-nova-compute" "$0"
    [ -f "$EMULATOR" ] && cat "$EMULATOR" || echo "no emulator"
} | hash_of)
TAG=$IMAGE:$recipe_hash
if podman image exists "$TAG"; then
    podman tag "$TAG" "$IMAGE:latest"
    log "$TAG cached"
    echo "$TAG"
    exit 0
fi

start=$(date +%s)
ctx=$CACHE/context-$recipe_hash
rm -rf "$ctx"; mkdir -p "$ctx/emulator"
cp "$HERE/Containerfile" "$HERE/debconf-preseed.txt" "$HERE/testhost-init" "$HERE/testhost-up" "$HERE/testhost-nova-compute" "$ctx/"
if [ -f "$EMULATOR" ]; then
    cp "$EMULATOR" "$ctx/emulator/"
else
    log "no $EMULATOR yet: molecule prepare copies it in at container start"
fi
log "building $TAG (log: $CACHE/build-$recipe_hash.log)"
if ! podman build --build-arg "BASE=$BASE" -t "$TAG" -t "$IMAGE:latest" -f "$ctx/Containerfile" "$ctx" \
        >"$CACHE/build-$recipe_hash.log" 2>&1; then
    tail -n 40 "$CACHE/build-$recipe_hash.log" >&2
    exit 1
fi
rm -rf "$ctx"
log "$TAG built in $(( $(date +%s) - start ))s ($(podman image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.2f GB", $1/1e9}'))"
echo "$TAG"
