#!/bin/sh
# Installs every Debian package hops, its tests, its benchmarks and its demo use.
# Idempotent and non-interactive: safe to run again on a machine that has them all.
set -eu

PACKAGES="
build-essential cmake pkg-config git ca-certificates procps bsdutils
zlib1g-dev libssl-dev
chromium nodejs
clang llvm libclang-rt-14-dev
libsqlite3-dev sqlite3
libjansson-dev
libmicrohttpd-dev libcurl4-openssl-dev curl
librdkafka-dev
libopenblas-dev
libxgboost-dev
libopenmpi-dev openmpi-bin
slurm-wlm munge
libcmocka-dev
wrk hyperfine nginx-light
python3 python3-numpy python3-pandas python3-sklearn python3-optuna python3-torch python3-protobuf
python3-yaml
protobuf-compiler
"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: run as root or install sudo" >&2
        exit 1
    fi
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# npm: Debian's package, unless the installed Node.js already brings its own
# (NodeSource builds do, and conflict with Debian's npm).
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
echo "install-deps: done"
