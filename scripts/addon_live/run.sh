#!/bin/bash
# Runs inside the add-on root (scripts/addon_live.sh) as the container's s6 would: the
# Supervisor stand-in, then the init-config oneshot, then the mosquitto and optimizer
# longruns, each followed by its finish script with s6's arguments (exit code, or 256 and
# the signal). Stays in the foreground until killed; the whole PID namespace goes with it.
set -uo pipefail
S6=/etc/s6-overlay/s6-rc.d
# This shell is the PID namespace's init, which the kernel shields from signals it does not
# handle: handle SIGTERM, and exiting ends every process of the namespace.
trap 'exit 143' TERM

# What s6-overlay would have made: the exit-code file and the halt command. halt here only
# records that a finish script asked for it, since stopping this replay is the host's job.
mkdir -p /run/s6-linux-init-container-results /run/s6/basedir/bin
: > /run/s6-linux-init-container-results/exitcode
printf '#!/bin/sh\necho "[s6 stand-in] halt requested" >&2\ntouch /run/halt-requested\n' \
    > /run/s6/basedir/bin/halt
chmod a+x /run/s6/basedir/bin/halt

python3 /tmp/bess-live/supervisor_standin.py "$STANDIN_PORT" "$INGRESS_PORT" "$SUPERVISOR_TOKEN" &
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$STANDIN_PORT") 2>/dev/null && break
    sleep 0.1
done

# init-config: the oneshot's `up` line, as s6-rc runs it. RUN_INIT_ONLY: stop after it and
# list what it left in /run/bess_dispatch (the bad-input check of scripts/addon_live.sh).
$(<"$S6/init-config/up")
code=$?
if [[ -n "${RUN_INIT_ONLY:-}" ]]; then
    ls /run/bess_dispatch 2>/dev/null
    exit "$code"
fi
if ((code != 0)); then
    echo "[s6 stand-in] init-config failed: the add-on stops" >&2
    exit 1
fi

longrun() {
    local name=$1 code signal=0
    "$S6/$name/run"
    code=$?
    if ((code > 128)); then signal=$((code - 128)) code=256; fi
    "$S6/$name/finish" "$code" "$signal"
}
longrun mosquitto &
longrun optimizer &
wait
