#!/usr/bin/env bash
# Reproduces the regression gate's two figures (README, "CI gate"):
#
#   A/A  the unchanged project against ci/baselines/smoke.json with fresh
#        seed sets (indices 64 on, which no baseline seed used): how many
#        of N comparisons fail (at alpha = 1 %, expect at most 1 of 40).
#   A/B  two deliberate changes, each against a baseline of the unchanged
#        scenario, with the sample gate and with the old one-seed gate
#        (one run against one run, the ratio tolerances ci/gates.toml had
#        before sample baselines):
#          servers  Shaanxi's platform cut by 10 % (10 → 9 servers) on the
#                   announcement spike;
#          rules    Anhui on anhui-yellow-5days.toml instead of anhui.toml
#                   over the Anhui fortnight.
#        Prints which metrics each gate flags.
#
#   scripts/gate-evidence.sh [aa|ab|all]      (default all)
#
# Environment: AA_RUNS (40), SEEDS (16, candidate seeds per A/A comparison),
# SERVERS_BASE/SERVERS_SEEDS (16/8) and RULES_BASE/RULES_SEEDS (64/32) seeds
# for each A/B's baseline and candidate (the rule change moves yellow scans
# by about 6 %, which 8 against 16 seeds cannot see: the gate says so),
# OUT (out/gate-evidence). Release build; the A/A takes about 40 × 10 s on
# two cores, the A/B a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}
AA_RUNS=${AA_RUNS:-40}
SEEDS=${SEEDS:-16}
SERVERS_BASE=${SERVERS_BASE:-16}
SERVERS_SEEDS=${SERVERS_SEEDS:-8}
RULES_BASE=${RULES_BASE:-64}
RULES_SEEDS=${RULES_SEEDS:-32}
OUT=${OUT:-out/gate-evidence}

cargo build --release --quiet -p hcsim
hcsim=$PWD/target/release/hcsim
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The failed checks of a gate log, one "metric (group)" per line.
failed() { awk '$0 ~ / FAIL / { print $1 }' "$1" | sort -u | paste -sd' ' -; }

aa() {
  local fails=0 i offset code
  for ((i = 0; i < AA_RUNS; i++)); do
    offset=$((64 + i * SEEDS))
    code=0
    "$hcsim" gate scenarios/smoke.toml --seeds "$SEEDS" --seed-offset "$offset" \
      --thresholds ci/gates.toml --baseline ci/baselines/smoke.json \
      --out "$work/aa" >"$OUT/aa-$i.log" 2>&1 || code=$?
    cp "$work/aa/verdict.json" "$OUT/aa-$i.json" 2>/dev/null || true
    rm -rf "$work/aa"
    case $code in
      0) echo "A/A $((i + 1))/$AA_RUNS (seed indices $offset..$((offset + SEEDS - 1))): passed" ;;
      10 | 11 | 12)
        fails=$((fails + 1))
        echo "A/A $((i + 1))/$AA_RUNS (seed indices $offset..$((offset + SEEDS - 1))): FAILED (exit $code): $(failed "$OUT/aa-$i.log")"
        ;;
      *) echo "error: gate exited $code, see $OUT/aa-$i.log" >&2; exit 2 ;;
    esac
  done
  echo "A/A: $fails of $AA_RUNS comparisons failed" | tee "$OUT/aa-summary.txt"
}

# The A/B gates: every scenario figure a change could move, related or not,
# each failing beyond 5 % when the samples differ significantly.
cat >"$work/ab-gates.toml" <<'EOF'
[gate]
alpha = 0.01
[baseline]
scans = { regress_by = 0.05 }
scans_pass = { regress_by = 0.05 }
scans_refer = { regress_by = 0.05 }
scans_refuse = { regress_by = 0.05 }
scans_green = { regress_by = 0.05 }
scans_yellow = { regress_by = 0.05 }
scans_red = { regress_by = 0.05 }
declarations_acked = { regress_by = 0.05 }
trips_started = { regress_by = 0.05 }
via_hub = { regress_by = 0.05 }
nat_tests = { regress_by = 0.05 }
confirmed = { regress_by = 0.05 }
platform_requests = { regress_by = 0.05 }
busy_rate = { regress_by = 0.05 }
failing_minutes = { regress_by = 0.05 }
scan_retries = { regress_by = 0.05 }
scan_p50_ms = { regress_by = 0.05 }
scan_p99_ms = { regress_by = 0.05 }
query_p99_ms = { regress_by = 0.05 }
wait_minutes_mean = { regress_by = 0.05 }
queue_depth_max = { regress_by = 0.05 }
utilization_max = { regress_by = 0.05 }
EOF
# ci/gates.toml's [baseline] before sample baselines: one run's ratio.
cat >"$work/old-gates.toml" <<'EOF'
[baseline]
events_per_second = { min_ratio = 0.2 }
scans = { tolerance = 0.10 }
scans_refuse = { tolerance = 0.50 }
model_bytes_per_citizen = { max_ratio = 1.25 }
EOF

# ab NAME A.toml B.toml BASE SEEDS: baseline of BASE seeds from A, then the
# sample gate (SEEDS fresh seeds) and the old gate on B.
ab() {
  local name=$1 a=$2 b=$3 base=$4 seeds=$5 code
  "$hcsim" gate "$a" --seeds "$base" --thresholds "$work/ab-gates.toml" \
    --baseline "$work/$name-base.json" --update-baseline --out "$work/run" >"$OUT/ab-$name-base.log" 2>&1
  "$hcsim" gate "$a" --seeds 1 --thresholds "$work/old-gates.toml" \
    --baseline "$work/$name-old.json" --update-baseline --out "$work/run" >/dev/null 2>&1
  code=0
  "$hcsim" gate "$b" --seeds "$seeds" --seed-offset "$base" --thresholds "$work/ab-gates.toml" \
    --baseline "$work/$name-base.json" --out "$work/run" >"$OUT/ab-$name.log" 2>&1 || code=$?
  echo "A/B $name, sample gate ($seeds seeds against $base): exit $code, flagged: $(failed "$OUT/ab-$name.log")"
  code=0
  "$hcsim" gate "$b" --seeds 1 --thresholds "$work/old-gates.toml" \
    --baseline "$work/$name-old.json" --out "$work/run" >"$OUT/ab-$name-old.log" 2>&1 || code=$?
  echo "A/B $name, old one-seed gate: exit $code, flagged: $(failed "$OUT/ab-$name-old.log")"
  rm -rf "$work/run"
}

abs() {
  # Scenario copies beside a copy of the rule sets they name.
  cp -r scenarios/rules "$work/rules"
  sed '/^\[capacity.provinces.shaanxi\]/,/^servers/ s/^servers = .*/servers = 10/' \
    scenarios/announcement-spike.toml >"$work/spike-a.toml"
  sed 's/^servers = 10/servers = 9/' "$work/spike-a.toml" >"$work/spike-b.toml"
  grep -q '^servers = 9' "$work/spike-b.toml"
  cp scenarios/anhui-fortnight.toml "$work/anhui-a.toml"
  sed 's|^anhui = "rules/anhui.toml"|anhui = "rules/anhui-yellow-5days.toml"|' \
    scenarios/anhui-fortnight.toml >"$work/anhui-b.toml"
  grep -q 'anhui-yellow-5days' "$work/anhui-b.toml"
  ab servers "$work/spike-a.toml" "$work/spike-b.toml" "$SERVERS_BASE" "$SERVERS_SEEDS" | tee "$OUT/ab-summary.txt"
  ab rules "$work/anhui-a.toml" "$work/anhui-b.toml" "$RULES_BASE" "$RULES_SEEDS" | tee -a "$OUT/ab-summary.txt"
}

case $what in
  aa) aa ;;
  ab) abs ;;
  all) abs; aa ;;
  *) echo "usage: scripts/gate-evidence.sh [aa|ab|all]" >&2; exit 2 ;;
esac
