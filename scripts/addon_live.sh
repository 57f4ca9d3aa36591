# The add-on, installed and started as its image would be, for the live test
# (tests/addon/test_live_addon.py). Sourced by scripts/test after _env.sh.
#
# No container engine runs here, so the image's steps are replayed in a Debian root of the
# base image's release (trixie), built with mmdebstrap like the test root:
#   1. the base image's own packages (bash, jq, curl, tzdata, ca-certificates, xz-utils);
#   2. the project's wheel, built from this checkout in the test environment;
#   3. addon/install.sh WHEEL addon/constraints.txt, exactly as addon/Dockerfile RUNs it;
#   4. addon/rootfs copied over the root, as the Dockerfile COPYs it;
#   5. scripts/addon_live/run.sh: a Supervisor stand-in (scripts/addon_live/supervisor_standin.py)
#      and the add-on's s6 scripts (init-config, then mosquitto and optimizer) against a
#      sample /data/options.json. The checkout is not visible in that root at all.
# The root shares the host's network namespace, so the test environment reaches the broker
# and the plan page on 127.0.0.1; BESS_LIVE_ADDON tells the test where (and the gateway's
# password). The add-on's processes live in a PID namespace of their own and are killed
# when scripts/test exits, whatever happens.

ADDON_SUITE=trixie
# Home Assistant's base-debian image installs these on top of debian:trixie-slim.
ADDON_BASE_PACKAGES="bash,jq,tzdata,curl,ca-certificates,xz-utils"

addon_root_key() {
  { printf '%s %s minbase;Check-Valid-Until=false\n' "$ADDON_SUITE" "$ADDON_BASE_PACKAGES"
    cat "$REPO/addon/install.sh" "$REPO/addon/constraints.txt"; } | sha
}

# Runs "$@" in the add-on root: private mounts and PIDs, tmpfs /tmp and /run (as a
# container has), the stage folder at /tmp/bess-live, /data and /config from the host.
in_addon_root() {
  local root=$1 stage=$2 data=$3 config=$4; shift 4
  # With IN_ADDON_EXEC set (a background start), unshare replaces the calling subshell, so
  # $! is unshare itself: killing it takes the whole PID namespace down (--kill-child).
  ${IN_ADDON_EXEC:+exec} unshare --mount --propagation private --pid --fork --kill-child -- \
    /bin/bash -euc '
      root=$1 stage=$2 data=$3 config=$4; shift 4
      mount -t proc proc "$root/proc"
      mount --rbind /dev "$root/dev"
      mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
      mount -t tmpfs -o mode=755 tmpfs "$root/run"
      mkdir -p "$root/tmp/bess-live" "$root/data" "$root/config"
      mount --bind "$stage" "$root/tmp/bess-live"
      mount --bind "$data" "$root/data"
      mount --bind "$config" "$root/config"
      mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
      mount --bind /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
      exec chroot "$root" /usr/bin/env -i \
        HOME=/root LANG=C.UTF-8 TZ=UTC PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
        PIP_DEFAULT_TIMEOUT=180 \
        SUPERVISOR_TOKEN="${SUPERVISOR_TOKEN:-}" BESS_SUPERVISOR_URL="${BESS_SUPERVISOR_URL:-}" \
        BESS_BROKER_PORT="${BESS_BROKER_PORT:-}" BESS_INGRESS_PROXY="${BESS_INGRESS_PROXY:-}" STANDIN_PORT="${STANDIN_PORT:-}" \
        INGRESS_PORT="${INGRESS_PORT:-}" RUN_INIT_ONLY="${RUN_INIT_ONLY:-}" \
        "$@"
    ' bash "$root" "$stage" "$data" "$config" "$@"
}

# Builds (once per key) the trixie root with the base image's packages.
ensure_addon_root() {
  local root tmp
  root="$CACHE/addon-root-$(addon_root_key)"
  if [ ! -f "$root/.complete" ]; then
    command -v mmdebstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; }
    log "building the add-on's Debian $ADDON_SUITE root in $root"
    tmp="$root.tmp.$$"
    rm -rf "$tmp"
    mmdebstrap --quiet --variant=minbase --aptopt='Acquire::Check-Valid-Until "false"' \
      --include="$ADDON_BASE_PACKAGES" "$ADDON_SUITE" "$tmp"
    # What the base image holds, for the size figure of what install.sh adds.
    chroot "$tmp" dpkg-query -W -f='${Package}\n' | sort > "$tmp/.base-packages"
    touch "$tmp/.complete"
    find "$CACHE" -maxdepth 1 -name 'addon-root-*' ! -path "$root" ! -name '*.tmp.*' -exec rm -rf {} + 2>/dev/null || true
    mv "$tmp" "$root"
  fi
  ADDON_ROOT=$root
}

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# Prints the installed size of what install.sh added: Debian packages + the venv (kB).
addon_size_report() {
  local root=$1 packages_kb venv_kb
  packages_kb=$(chroot "$root" dpkg-query -W -f='${Package} ${Installed-Size}\n' \
    | sort | join -v1 - "$root/.base-packages" | awk '{s += $2} END {print s + 0}')
  venv_kb=$(du -sk "$root/opt/bess-dispatch" | cut -f1)
  log "add-on image (amd64, measured in the replay root): Debian packages added $((packages_kb / 1024)) MiB, venv $((venv_kb / 1024)) MiB, total $(((packages_kb + venv_kb) / 1024)) MiB over the base image"
}

# unshare passes SIGTERM on to run.sh, which ends the namespace; SIGKILL if that hangs.
addon_live_stop() {
  local i
  if [ -n "${ADDON_PID:-}" ]; then
    kill "$ADDON_PID" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$ADDON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ADDON_PID" 2>/dev/null || true
    wait "$ADDON_PID" 2>/dev/null || true
    ADDON_PID=
  fi
}

addon_live_start() {
  local stage data config log_file token ready=0 i
  ensure_addon_root
  stage="$REPO/build/addon-live"
  rm -rf "$stage" && mkdir -p "$stage/dist" "$stage/data" "$stage/config"
  log "building the project's wheel"
  rm -rf "$REPO/build/addon-wheel"
  run_in_env python -m pip wheel --quiet --no-deps -w "$REPO/build/addon-wheel" "$REPO"
  cp "$REPO"/build/addon-wheel/bess_dispatch-*-py3-none-any.whl "$stage/dist/"
  cp "$REPO/addon/install.sh" "$REPO/addon/constraints.txt" "$REPO"/scripts/addon_live/* "$stage/"
  log "installing it in the add-on root with addon/install.sh"
  in_addon_root "$ADDON_ROOT" "$stage" "$stage/data" "$stage/config" \
    bash /tmp/bess-live/install.sh "$(cd "$stage" && ls dist/*.whl | sed 's|^|/tmp/bess-live/|')" \
    /tmp/bess-live/constraints.txt
  cp -a "$REPO/addon/rootfs/." "$ADDON_ROOT/"
  # Stand-in for s6-overlay's with-contenv (in the base image, not installable here): it would
  # load the container's environment, which this replay already passes directly.
  printf '#!/bin/sh\n# stand-in for s6-overlay with-contenv (scripts/addon_live.sh)\nexec "$@"\n' \
    > "$ADDON_ROOT/usr/bin/with-contenv"
  chmod a+x "$ADDON_ROOT/usr/bin/with-contenv"
  addon_size_report "$ADDON_ROOT"

  data=$stage/data config=$stage/config log_file=$stage/addon.log
  token=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  export SUPERVISOR_TOKEN=$token STANDIN_PORT=$(free_port) INGRESS_PORT=$(free_port) BESS_BROKER_PORT=$(free_port)
  export BESS_SUPERVISOR_URL="http://127.0.0.1:$STANDIN_PORT"
  # The Supervisor's ingress proxy (172.30.32.2) is played by 127.0.0.2, which is on the
  # loopback interface too: the test connects from there, and from 127.0.0.1 gets a 403.
  export BESS_INGRESS_PROXY=127.0.0.2
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  # The sample options: addon/config.yaml's defaults, with the gateway's password set so the
  # test can log in (the add-on would otherwise generate one into /config).
  cat > "$data/options.json" <<JSON
{"sites": [{"site_id": "home", "gateway_id": "gateway", "use_case": "ac_link",
  "battery_capacity_kwh": 10.0, "max_charge_kw": 5.0, "max_discharge_kw": 5.0,
  "min_soe_percent": 10, "max_soe_percent": 90, "round_trip_efficiency": 0.9,
  "has_load": true, "gateway_password": "$password"}],
 "tariff": {"kind": "tou", "spot_format": "timestamp_price",
  "tou_periods": ["00:00-07:00 18.5", "07:00-23:00 35.2", "23:00-24:00 18.5"],
  "export_price": 8.0, "currency": "JPY"},
 "broker": {"mode": "own", "tls": false, "certfile": "fullchain.pem", "keyfile": "privkey.pem"},
 "log_level": "info", "test_mode": false}
JSON
  # Bad input first: init-config must refuse an invalid option, name its path, and leave no
  # broker configuration behind (so s6 stops the add-on before Mosquitto could start).
  local bad=$stage/bad-data output
  mkdir -p "$bad"
  sed 's/"min_soe_percent": 10/"min_soe_percent": -5/' "$data/options.json" > "$bad/options.json"
  if output=$(RUN_INIT_ONLY=1 in_addon_root "$ADDON_ROOT" "$stage" "$bad" "$config" \
      /bin/bash /tmp/bess-live/run.sh 2>&1); then
    log "init-config accepted an invalid options.json:"; printf '%s\n' "$output" >&2; return 1
  fi
  if ! grep -q 'sites\[0\].min_soe_percent' <<< "$output" || grep -q 'mosquitto' <<< "$output"; then
    log "init-config's refusal does not name the option, or left broker files:"
    printf '%s\n' "$output" >&2
    return 1
  fi
  log "init-config refuses an invalid option by its path: $(grep -o 'sites\[0\].min_soe_percent[^"]*' <<< "$output" | head -1)"

  log "starting the add-on's s6 scripts (log: $log_file)"
  IN_ADDON_EXEC=1 in_addon_root "$ADDON_ROOT" "$stage" "$data" "$config" \
    /bin/bash /tmp/bess-live/run.sh > "$log_file" 2>&1 &
  ADDON_PID=$!
  trap addon_live_stop EXIT
  for i in $(seq 1 240); do
    if ! kill -0 "$ADDON_PID" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$BESS_BROKER_PORT") 2>/dev/null \
      && (exec 3<>"/dev/tcp/127.0.0.1/$INGRESS_PORT") 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.5
  done
  if [ "$ready" != 1 ]; then
    log "the add-on did not come up; its log:"
    cat "$log_file" >&2
    addon_live_stop
    return 1
  fi
  log "add-on up: broker 127.0.0.1:$BESS_BROKER_PORT, plan page 127.0.0.1:$INGRESS_PORT"
  export BESS_LIVE_ADDON="{\"broker_port\": $BESS_BROKER_PORT, \"ingress_port\": $INGRESS_PORT, \"site_id\": \"home\", \"gateway_id\": \"gateway\", \"username\": \"home.gateway\", \"password\": \"$password\", \"ingress_proxy\": \"$BESS_INGRESS_PROXY\", \"log\": \"$log_file\"}"
}
