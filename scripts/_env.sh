# Shared by scripts/setup, scripts/env and scripts/test: finds or builds the Python >= 3.14.2
# environment Home Assistant 2026 needs, and runs commands inside it.
# Sourced, not executed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BESS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bess-dispatch}
PINS="$REPO/requirements.txt"
# Debian packages the root needs: the interpreter, a broker for the tests, and a browser for
# the plan-page and Home Assistant UI tests (g++: two of HA's pinned speech packages have no
# Python 3.14 wheel). Changing this list changes the root's cache key.
ROOT_PACKAGES="python3.14,python3.14-venv,python3.14-dev,gcc,g++,libc6-dev,ca-certificates,tzdata,mosquitto,openssl,git,chromium,fonts-dejavu-core"
ROOT_SUITE=sid

log() { printf '[setup] %s\n' "$*" >&2; }

sha() { sha256sum | cut -c1-16; }

# A host interpreter is used when it is new enough; HA 2026.x refuses anything below 3.14.2.
host_python() {
  local candidate
  for candidate in ${BESS_PYTHON:-} python3.15 python3.14 python3; do
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# Only the pins decide the venv: editing these scripts must not force a reinstall.
pins_key() { sha < "$PINS"; }

# --- mode: host ---------------------------------------------------------------------------
host_venv_dir() { echo "$CACHE/venv-host-$( { "$1" -VV; pins_key; } | sha)"; }

ensure_host() {
  local py=$1 venv
  venv=$(host_venv_dir "$py")
  if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    log "installing mosquitto (the tests start real brokers)"
    apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null
  fi
  if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium (the plan page's browser test)"
    apt-get install -y -qq --no-install-recommends chromium >/dev/null \
      || log "chromium could not be installed: the browser test will be skipped"
  fi
  if [ ! -f "$venv/.complete" ]; then
    log "creating virtual environment $venv with $("$py" -V)"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    install_pins "$venv/bin/python"
    touch "$venv/.complete"
  fi
  VENV=$venv
}

# --- mode: Debian root -------------------------------------------------------------------------
root_key() { printf '%s %s %s\n' "$ROOT_SUITE" "$ROOT_PACKAGES" 'minbase;Check-Valid-Until=false' | sha; }
root_dir() { echo "$CACHE/root-$(root_key)"; }
root_venv() { echo "/opt/venv-$(pins_key)"; }

ensure_root() {
  local root tmp venv
  root=$(root_dir)
  if [ ! -f "$root/.complete" ]; then
    if ! command -v mmdebstrap >/dev/null 2>&1; then
      log "installing mmdebstrap (builds the Python 3.14 root; host Python is $(python3 -V 2>&1))"
      apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null
    fi
    log "building Debian $ROOT_SUITE root with Python 3.14 in $root (about 30 s)"
    mkdir -p "$CACHE"
    tmp="$root.tmp.$$"
    rm -rf "$tmp"
    mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
      --include="$ROOT_PACKAGES" "$ROOT_SUITE" "$tmp"
    touch "$tmp/.complete"
    rm -rf "$root"
    mv "$tmp" "$root"
    # Older roots with other inputs are dead weight.
    find "$CACHE" -maxdepth 1 -name 'root-*' ! -path "$root" -exec rm -rf {} + 2>/dev/null || true
  fi
  venv=$(root_venv)
  if [ ! -f "$root$venv/.complete" ]; then
    log "creating virtual environment $venv inside the root"
    rm -rf "$root$venv"
    find "$root/opt" -maxdepth 1 -name 'venv-*' -exec rm -rf {} + 2>/dev/null || true
    in_root "$root" /usr/bin/python3.14 -m venv "$venv"
    in_root "$root" "$venv/bin/python" -c 'pass'
    install_pins_in_root "$root" "$venv"
    touch "$root$venv/.complete"
  fi
  ROOT=$root
  VENV=$venv
}

# Runs a command inside the root: private mount and PID namespaces, so every mount and every
# process (brokers included) goes away with it. The checkout's parent is bound at the same
# path so ../shared and absolute paths work unchanged.
in_root() {
  local root=$1; shift
  local share
  share=$(dirname "$REPO")
  [ "$share" = / ] && share=$REPO
  unshare --mount --propagation private --pid --fork --kill-child -- \
    /bin/bash -euc '
      root=$1 share=$2 repo=$3; shift 3
      mount -t proc proc "$root/proc"
      mount --rbind /sys "$root/sys"
      mount --rbind /dev "$root/dev"
      mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
      mkdir -p "$root$share" "$root/dev/shm" 2>/dev/null || true
      mount --rbind "$share" "$root$share"
      # ../shared may be a link to somewhere outside the bound folder: bind its target too.
      shared=$(readlink -f "$share/shared" 2>/dev/null || true)
      case "$shared" in
        ""|"$share"/*) ;;
        *) [ -d "$shared" ] && mkdir -p "$root$shared" && mount --rbind "$shared" "$root$shared" ;;
      esac
      mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
      mount --bind /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
      cd "$root$repo" 2>/dev/null || cd "$root"
      exec chroot "$root" /usr/bin/env -i \
        HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" CI="${CI:-}" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
        PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-}" HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-}" \
        BESS_DATA="${BESS_DATA:-}" COLUMNS="${COLUMNS:-}" BESS_LIVE_ADDON="${BESS_LIVE_ADDON:-}" \
        /bin/bash -c "cd \"$repo\" 2>/dev/null || cd /; exec \"\$@\"" bash "$@"
    ' bash "$root" "$share" "$REPO" "$@"
}

install_pins() {
  local python=$1
  log "installing pinned requirements from requirements.txt (about a minute)"
  "$python" -m pip install --quiet --upgrade pip
  "$python" -m pip install --quiet --progress-bar off -r "$PINS"
}

install_pins_in_root() {
  local root=$1 venv=$2
  log "installing pinned requirements from requirements.txt (about a minute)"
  in_root "$root" "$venv/bin/python" -m pip install --quiet --upgrade pip
  in_root "$root" "$venv/bin/python" -m pip install --quiet --progress-bar off -r "$PINS"
}

# Sets MODE (host|root), VENV and, for root, ROOT. Serialised with a lock so parallel
# callers wait for one build instead of tearing down each other's half-built environment.
ensure_env() {
  local py
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if py=$(host_python); then
    MODE=host
    ensure_host "$py"
  else
    MODE=root
    if [ "$(id -u)" != 0 ]; then
      log "no Python >= 3.14.2 on this host, and building the Debian root needs root"
      exit 1
    fi
    ensure_root
  fi
  flock -u 9
  exec 9>&-
}

# Runs "$@" inside the environment with the venv first on PATH, from the repository root.
run_in_env() {
  if [ "$MODE" = host ]; then
    (cd "$REPO" && PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV" "$@")
  else
    in_root "$ROOT" /usr/bin/env PATH="$VENV/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      VIRTUAL_ENV="$VENV" "$@"
  fi
}
