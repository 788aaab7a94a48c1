# shellcheck shell=bash
# Shared by scripts/setup, scripts/test, scripts/lint and scripts/develop. Source it from the
# repository root (each script does `cd "$(dirname "$0")/.."` first):
#
#   LOG_TAG=test; . scripts/lib.sh
#
# Logging: log / warn / die, tagged [$LOG_TAG] (with "+Ns" since $LOG_START when that is set).
# Privileges: as_root (sudo unless root), apt_install (apt-get update once, then install).
# Environment: PREFIX (private Python), py_ok, requirements_sha, have_mosquitto, env_ready;
# the interop brokers of tests/interop: have_ejabberd, amqtt_ready, aedes_ready.
# Ports: port_free, free_port.

# shellcheck disable=SC2034 # used by the scripts that source this file
ROOT=$PWD
PY="$ROOT/.venv/bin/python"
REQ_STAMP="$ROOT/.venv/.requirements.sha"
# tests/interop: amqtt in its own venv (its dependencies must not meet Home Assistant's), and
# aedes' node_modules; each stamped with the hash of what it was installed from.
AMQTT_VENV="$ROOT/.venv-amqtt"
AMQTT_REQS="$ROOT/tests/interop/amqtt/requirements.txt"
AMQTT_STAMP="$AMQTT_VENV/.requirements.sha"
AEDES_DIR="$ROOT/tests/interop/aedes"
AEDES_STAMP="$AEDES_DIR/node_modules/.package-lock.sha"
LOG_TAG=${LOG_TAG:-iot_hub}
LOG_COLOR=${LOG_COLOR:-34}
LOG_START=${LOG_START:-}

_tag() {
    if [ -n "$LOG_START" ]; then
        printf '%s +%3ss' "$LOG_TAG" "$(($(date +%s) - LOG_START))"
    else
        printf '%s' "$LOG_TAG"
    fi
}
log() { printf '\033[1;%sm[%s]\033[0m %s\n' "$LOG_COLOR" "$(_tag)" "$*"; }
warn() { printf '\033[1;33m[%s]\033[0m %s\n' "$(_tag)" "$*" >&2; }
die() {
    printf '\033[1;31m[%s] FAILED:\033[0m %s\n' "$(_tag)" "$*" >&2
    exit 1
}

# --- privileges and packages -----------------------------------------------------------------

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_install() {
    if [ "$APT_UPDATED" = 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- the environment scripts/setup prepares --------------------------------------------------

# Where scripts/setup unpacks a private Python when the machine has none >= 3.14.2.
# shellcheck disable=SC2034 # used by scripts/setup and scripts/develop
if [ "$(id -u)" = 0 ]; then
    PREFIX=${IOT_HUB_PY_PREFIX:-/opt/iot_hub/python3.14}
else
    PREFIX=${IOT_HUB_PY_PREFIX:-$HOME/.local/share/iot_hub/python3.14}
fi

py_ok() { # is "$1" a Python >= 3.14.2 with a working ssl/sqlite3?
    [ -x "$1" ] || command -v "$1" >/dev/null 2>&1 || return 1
    "$1" -c 'import sys, ssl, sqlite3; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null
}

# What .venv/.requirements.sha must hold once the pinned requirements are installed and
# site-packages is compiled to bytecode ("bytecode" in the hash: venvs made before that step
# existed are brought up to date once).
requirements_sha() {
    { cat requirements_test.txt requirements_dev.txt 2>/dev/null; echo "bytecode"; } | sha256sum | cut -d' ' -f1
}

have_mosquitto() {
    { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } &&
        command -v mosquitto_pub >/dev/null 2>&1 && command -v mosquitto_passwd >/dev/null 2>&1
}

# ejabberd (Debian's package: erl and its mod_mqtt), run by tests/interop without ejabberdctl.
have_ejabberd() {
    command -v erl >/dev/null 2>&1 && compgen -G "/usr/lib/*/ejabberd-*/ebin/mod_mqtt.beam" >/dev/null
}

sha_of() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }

amqtt_ready() { # .venv-amqtt holds what tests/interop/amqtt/requirements.txt pins
    # (-x follows the venv's python symlink: false once .venv's base Python is gone)
    [ -x "$AMQTT_VENV/bin/python" ] && [ -x "$AMQTT_VENV/bin/amqtt" ] &&
        [ "$(cat "$AMQTT_STAMP" 2>/dev/null)" = "$(sha_of "$AMQTT_REQS")" ]
}

aedes_ready() { # node runs and node_modules is the `npm ci` of the committed package-lock.json
    command -v node >/dev/null 2>&1 &&
        [ "$(cat "$AEDES_STAMP" 2>/dev/null)" = "$(sha_of "$AEDES_DIR/package-lock.json")" ]
}

# The quick "is scripts/setup done?" check (~0.1 s): the venv's Python runs, the pinned
# requirements are installed (stamp), mosquitto is there, and so are the interop brokers
# (ejabberd, .venv-amqtt, aedes' node_modules: stamps). Prints why not, on stderr.
env_ready() {
    if ! py_ok "$PY"; then
        warn "no working .venv/bin/python (>= 3.14.2)"
        return 1
    fi
    if [ "$(cat "$REQ_STAMP" 2>/dev/null)" != "$(requirements_sha)" ]; then
        warn "the pinned requirements changed or are not installed yet"
        return 1
    fi
    if ! have_mosquitto; then
        warn "mosquitto / mosquitto_pub / mosquitto_passwd missing"
        return 1
    fi
    if ! have_ejabberd; then
        warn "ejabberd (erl, mod_mqtt) missing (tests/interop)"
        return 1
    fi
    if ! amqtt_ready; then
        warn ".venv-amqtt missing or not what tests/interop/amqtt/requirements.txt pins"
        return 1
    fi
    if ! aedes_ready; then
        warn "node missing, or tests/interop/aedes/node_modules not installed from its lock file"
        return 1
    fi
    if ! { [ -x /usr/bin/chromium ] &&
        compgen -G ".venv/lib/python3*/site-packages/playwright-1.65.2.dist-info" >/dev/null; }; then
        warn "chromium or playwright missing (tests/e2e)"
        return 1
    fi
}

# Run scripts/setup unless env_ready says everything is there already.
ensure_env() {
    env_ready 2>/dev/null && return 0
    env_ready || true # say why
    bash "$ROOT/scripts/setup"
}

# --- ports -----------------------------------------------------------------------------------

port_free() { # is nothing listening on 127.0.0.1:$1 ? (SO_REUSEADDR: TIME_WAIT is no obstacle)
    "$PY" -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()' "$1"
}

free_port() { # a port nothing listens on (the kernel's pick)
    "$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
