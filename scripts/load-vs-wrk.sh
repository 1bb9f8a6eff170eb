#!/usr/bin/env bash
# wrk and `hcsim load` back to back against the same `hcsim serve` (2 threads)
# on loopback, `POST /v1/code/verify`, with the same connections, client
# threads and duration. Each round runs:
#   1. wrk, closed loop, as fast as it goes;
#   2. `hcsim load` asked 3x wrk's rate (so the target, not the schedule,
#      is the limit): requests/s against wrk's;
#   3. `hcsim load` at 80 % of wrk's rate: corrected p99 against uncorrected
#      (the generator keeps its schedule).
# and prints requests/s, their ratio, p99s and CPU per request of both.
#
# wrk comes from the distribution's packages when run as root; otherwise,
# without wrk, only `hcsim load` runs.
#
#   scripts/load-vs-wrk.sh                      # one round, 64 connections, 15 s
#   ROUNDS=3 DURATION=15 scripts/load-vs-wrk.sh
#
# Environment: ROUNDS (1), DURATION seconds (15), CONNECTIONS (64),
# THREADS client threads (2), PIPELINE (16), PORT (18431), HCSIM (the
# release binary, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PIPELINE=${PIPELINE:-16}
PORT=${PORT:-18431}
HCSIM=${HCSIM:-target/release/hcsim}
BASE="http://127.0.0.1:$PORT"

if [[ ! -x $HCSIM ]]; then
    cargo build --release -p hcsim
fi

have_wrk=1
if ! command -v wrk >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    else
        echo "wrk is not installed and this is not root: running hcsim load alone" >&2
        have_wrk=0
    fi
fi

json() { # json FILE .dotted.path
    python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].strip(".").split("."):
    v = v[k]
print(json.dumps(v) if isinstance(v, dict) else v)
PY
}

work=$(mktemp -d)
serve_pid=
cleanup() {
    # Only what this script started.
    if [[ -n $serve_pid ]]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$HCSIM" serve --addr "127.0.0.1:$PORT" --scenario scenarios/smoke.toml --threads 2 \
    >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do
    curl -sf "$BASE/healthz" >/dev/null && break
    kill -0 "$serve_pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done

# wrk verifies one registered code, as `hcsim load --mix verify=100` verifies
# its registered population: the code (with its token) the answer carries.
code=$(curl -sf -X POST "$BASE/v1/code/apply" -d \
    '{"province":"beijing","identity":{"doc":"id_card","number":1,"name":0,"age":30},"face_verified":true}' |
    sed -En 's/.*"code":(\{"issuer":\{[^}]*\},"serial":[0-9]+,"token":"[0-9a-f]{16}"\}).*/\1/p')
[[ -n $code ]] || { echo "could not register the code wrk verifies" >&2; exit 1; }
cat >"$work/verify.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"credential":{"code":$code},"place":{"county":{"province":0,"county":0},"kind":"mall"},"temperature":365}'
EOF

load() { # load RATE OUT-DIR
    "$HCSIM" load scenarios/smoke.toml --target "$BASE" --rate "$1" --duration "${DURATION}s" \
        --connections "$CONNECTIONS" --threads "$THREADS" --pipeline "$PIPELINE" \
        --mix verify=100 --people 20000 --min-rate-share 0 --quiet --out "$2" >"$2.txt"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
echo "each run: $CONNECTIONS connections, $THREADS client threads, ${DURATION} s; hcsim serve 2 threads"
for round in $(seq "$ROUNDS"); do
    echo "== round $round"
    wrk_rps=
    if [[ $have_wrk == 1 ]]; then
        TIMEFORMAT='%U %S'
        { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/verify.lua" \
            "$BASE/v1/code/verify" >"$work/wrk.txt" 2>&1; } 2>"$work/wrk.time"
        wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
        wrk_requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
        wrk_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
        wrk_errors=$(awk '/Non-2xx|Socket errors/' "$work/wrk.txt")
        wrk_cpu_us=$(awk -v n="$wrk_requests" '{printf "%.2f", ($1 + $2) * 1e6 / n}' "$work/wrk.time")
        printf 'wrk             %10.0f req/s  p99 %s  CPU %s µs/request (%s CPU-s) %s\n' \
            "$wrk_rps" "$wrk_p99" "$wrk_cpu_us" "$(awk '{print $1 + $2}' "$work/wrk.time")" "$wrk_errors"
    fi
    ask=${wrk_rps:-100000}
    load "$(awk -v r="$ask" 'BEGIN {printf "%.0f", r * 3}')" "$work/max"
    rps=$(json "$work/max/load.json" .achieved.rate_per_second)
    printf 'hcsim load      %10.0f req/s  p99 %.3f ms uncorrected  CPU %.2f µs/request (%.1f CPU-s)  errors %s\n' \
        "$rps" "$(json "$work/max/load.json" .latency.uncorrected_ms.p99)" \
        "$(json "$work/max/load.json" .generator_cost.cpu_per_request_us)" \
        "$(json "$work/max/load.json" .generator_cost.cpu_seconds)" \
        "$(json "$work/max/load.json" .errors)"
    if [[ -n $wrk_rps ]]; then
        awk -v a="$rps" -v b="$wrk_rps" 'BEGIN {printf "ratio           %.2fx wrk'"'"'s requests/s\n", a / b}'
        at80=$(awk -v r="$wrk_rps" 'BEGIN {printf "%.0f", r * 0.8}')
        load "$at80" "$work/at80"
        f=$work/at80/load.json
        printf 'at 80 %% (%s/s) achieved %.0f/s  p99 corrected %.3f ms, uncorrected %.3f ms (%.2fx)  send lag p99 %.3f ms\n' \
            "$at80" "$(json "$f" .achieved.rate_per_second)" \
            "$(json "$f" .latency.corrected_ms.p99)" "$(json "$f" .latency.uncorrected_ms.p99)" \
            "$(awk -v c="$(json "$f" .latency.corrected_ms.p99)" -v u="$(json "$f" .latency.uncorrected_ms.p99)" \
                'BEGIN {printf "%.2f", c / (u > 0 ? u : 1)}')" \
            "$(json "$f" .latency.send_lag_ms.p99)"
    fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
