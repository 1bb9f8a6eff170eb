#!/usr/bin/env bash
# The speed-up per thread of one scenario, measured as the host lets one
# measure it: runs at each thread count back to back, in rounds whose
# order alternates (1 2, then 2 1, ...) so that a host getting busier or
# quieter during the measurement does not favour one count. Prints each
# round's wall times and speed-ups against 1 thread, then the median of
# the rounds; checks that every run wrote the same summary.json (exit 1
# if not). Shared machines move a lone run's time by 15-40 % within
# minutes: compare rounds, never runs from different hours.
#
#   scripts/speedup.sh [SCENARIO] [ROUNDS]
#   scripts/speedup.sh scenarios/national-10m.toml 3
#
# Environment: HCSIM (./target/release/hcsim), THREADS ("1 2"; the first
# is the baseline), PIN (1: also run the baseline pinned to one core with
# taskset, so a lone worker's helper threads — its oracle beside large
# ticks, setup's registration — cannot use a second core), OUT
# (out/speedup). ARCHITECTURE.md ("Performance") quotes its output.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in -h | --help)
    sed -n '2,18p' "$0"
    exit 0
    ;;
esac
SCENARIO=${1:-scenarios/national-10m.toml}
ROUNDS=${2:-3}
HCSIM=${HCSIM:-./target/release/hcsim}
THREADS=${THREADS:-1 2}
PIN=${PIN:-0}
OUT=${OUT:-out/speedup}
[ -f "$SCENARIO" ] || { echo "$SCENARIO: no such scenario" >&2; exit 2; }
[ -x "$HCSIM" ] || { echo "$HCSIM: not built (cargo build --release -p hcsim)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is not installed" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS: '$ROUNDS' is not a positive whole number" >&2; exit 2; }
if [ "$PIN" = 1 ] && ! command -v taskset >/dev/null; then
    echo "PIN=1 needs taskset (util-linux)" >&2
    exit 2
fi
read -r -a counts <<< "$THREADS"
for t in "${counts[@]}"; do
    [[ "$t" =~ ^[1-9][0-9]*$ ]] || { echo "THREADS: '$t' is not a positive whole number" >&2; exit 2; }
done
# Each run is named by its thread count; the pinned baseline is "1p".
configs=("${counts[@]}")
[ "$PIN" = 1 ] && configs+=("${counts[0]}p")
rm -rf "$OUT"
mkdir -p "$OUT"

run() { # round, config
    local dir="$OUT/r$1-$2" threads=${2%p} pin=()
    [ "$2" != "$threads" ] && pin=(taskset -c 0)
    "${pin[@]}" "$HCSIM" run "$SCENARIO" --threads "$threads" --quiet --out "$dir" > "$dir.txt" 2>&1 || {
        echo "run $2 of round $1 failed (exit $?):" >&2
        tail -5 "$dir.txt" >&2
        exit 1
    }
}

for ((r = 1; r <= ROUNDS; r++)); do
    order=("${configs[@]}")
    if ((r % 2 == 0)); then
        for ((i = 0, j = ${#order[@]} - 1; i < j; i++, j--)); do
            tmp=${order[i]} order[i]=${order[j]} order[j]=$tmp
        done
    fi
    for c in "${order[@]}"; do
        run "$r" "$c"
    done
done

python3 - "$OUT" "$ROUNDS" "$SCENARIO" "${configs[@]}" <<'EOF'
import hashlib, json, statistics, sys

out, rounds, scenario, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
base = configs[0]
wall, cores, digests = {}, {}, set()
for r in range(1, rounds + 1):
    for c in configs:
        d = f"{out}/r{r}-{c}"
        perf = json.load(open(f"{d}/performance.json"))
        wall[r, c] = perf["wall_seconds"]
        cores[r, c] = perf.get("cores_busy")
        digests.add(hashlib.md5(open(f"{d}/summary.json", "rb").read()).hexdigest())

def name(c):
    n = int(c.rstrip("p"))
    threads = "1 thread" if n == 1 else f"{n} threads"
    return f"{threads} pinned to one core" if c.endswith("p") else threads

print(f"{scenario}: {rounds} round(s), wall seconds (speed-up against {name(base)}; cores kept busy)")
for r in range(1, rounds + 1):
    cells = [f"{name(c)} {wall[r, c]:.2f} s"
             + ("" if c == base or c.endswith("p") else f" ({wall[r, base] / wall[r, c]:.2f}x)")
             + ("" if cores[r, c] is None else f" [{cores[r, c]:.2f} cores]")
             for c in configs]
    print(f"  round {r}: " + ", ".join(cells))
pinned = [c for c in configs if c.endswith("p")]
for ref in [base] + pinned:
    for c in configs:
        if c == base or c.endswith("p"):
            continue
        ratios = [wall[r, ref] / wall[r, c] for r in range(1, rounds + 1)]
        median = statistics.median(ratios)
        print(f"median speed-up, {name(c)} against {name(ref)}: {median:.2f}x"
              f" (rounds {min(ratios):.2f}-{max(ratios):.2f}x; {median / int(c) * int(base):.2f} of linear)")
if len(digests) != 1:
    print(f"summary.json differs between runs ({len(digests)} digests): not deterministic", file=sys.stderr)
    sys.exit(1)
print(f"summary.json identical in all {rounds * len(configs)} runs (md5 {digests.pop()[:8]})")
EOF
