#!/usr/bin/env bash
# Hostile clients against `hcsim serve` on loopback, and what they cost it:
# /healthz latency (median and max of sequential probes) and the server's
# resident memory, idle and under each attack:
#   slowloris  CONNS connections, each sending a request head one byte a
#              second and never finishing it;
#   bodies     CONNS uploads announcing BODY_MIB MiB each to /v1/batch and
#              sending it slowly (the body budget and timeout bound them);
#   idle       CONNS kept-alive connections that send nothing.
# Each attack runs ATTACK seconds; probes start after the attackers connect.
#
#   scripts/hostile-probe.sh
#   CONNS=2000 ATTACK=12 scripts/hostile-probe.sh
#
# Environment: CONNS (1500), ATTACK seconds (10), BODY_MIB (64), PROBES
# (200), PORT (18432), HCSIM (the release binary, built if missing).
# Needs python3 (standard library only) for the attacking clients.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-1500}
ATTACK=${ATTACK:-10}
BODY_MIB=${BODY_MIB:-64}
PROBES=${PROBES:-200}
PORT=${PORT:-18432}
HCSIM=${HCSIM:-target/release/hcsim}

if [[ ! -x $HCSIM ]]; then
    cargo build --release -p hcsim
fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

"$HCSIM" serve --addr "127.0.0.1:$PORT" --threads 2 >/tmp/hostile-probe-serve.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }
hwm_mib() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

# Sequential /healthz probes: "median max failures" in milliseconds.
probe() {
    local times=() failures=0 t
    for _ in $(seq "$PROBES"); do
        if t=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "http://127.0.0.1:$PORT/healthz"); then
            [[ ${t%% *} == 200 ]] || failures=$((failures + 1))
            times+=("${t##* }")
        else
            failures=$((failures + 1))
        fi
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v f="$failures" '
        { v[NR] = $1 * 1000 }
        END { if (NR == 0) { print "- - " f; exit } printf "%.2f %.2f %d\n", v[int((NR + 1) / 2)], v[NR], f }'
}

attack() {
    python3 - "$1" "$PORT" "$CONNS" "$ATTACK" "$BODY_MIB" <<'PY'
import socket, sys, time
kind, port, conns, seconds, body_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
socks = []
for _ in range(conns):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.setblocking(False)
        socks.append(s)
    except OSError:
        break
head = {
    "slowloris": b"POST /v1/code/verify HTTP/1.1\r\nHost: x\r\nX-Slow: ",
    "bodies": b"POST /v1/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n[" % (body_mib << 20),
    "idle": b"",
}[kind]
for s in socks:
    try:
        s.send(head)
    except OSError:
        pass
print(f"{len(socks)}", flush=True)
end = time.time() + seconds
chunk = b"x" if kind == "slowloris" else b"{" * 65536
while time.time() < end:
    for s in socks:
        if kind == "idle":
            continue
        try:
            s.send(chunk)
        except OSError:
            pass
    time.sleep(1.0)
PY
}

printf '%-10s %8s %12s %12s %9s %9s %9s\n' attack conns "healthz p50" "healthz max" failures "RSS MiB" "peak MiB"
read -r p50 max fail < <(probe)
printf '%-10s %8s %10s ms %10s ms %9s %9s %9s\n' none 0 "$p50" "$max" "$fail" "$(rss_mib)" "$(hwm_mib)"
for kind in ${KINDS:-slowloris bodies idle}; do
    exec 3< <(attack "$kind")
    read -r opened <&3
    read -r p50 max fail < <(probe)
    rss=$(rss_mib)
    cat <&3 >/dev/null
    exec 3<&-
    printf '%-10s %8s %10s ms %10s ms %9s %9s %9s\n' "$kind" "$opened" "$p50" "$max" "$fail" "$rss" "$(hwm_mib)"
    sleep 2
done
