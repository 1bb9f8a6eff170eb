#!/usr/bin/env bash
# Where a multi-thread run waits: samples every thread of one `hcsim run`
# with perf, then, for each sample in which a worker sat idle (yielding,
# parked, spinning for work), takes the busiest other thread's nearest
# sample. What those add up to is what the run waited for: the serial
# steps of the tick, and the last shard of a phase. ARCHITECTURE.md
# ("Performance") reads its output.
#
#   scripts/where-the-tick-waits.sh SCENARIO [hcsim run options...]
#   scripts/where-the-tick-waits.sh scenarios/national-10m.toml --threads 2
#
# Environment: HCSIM (./target/release/hcsim), FREQ (4999 samples a second
# per thread), TOP (25 symbols), OUT (out/waits). Needs perf (linux-tools)
# and python3; sampling slows the run by ~10 %, and the shares, not the
# seconds, are what to compare.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
    sed -n '2,16p' "$0"
    exit 2
fi
HCSIM=${HCSIM:-./target/release/hcsim}
FREQ=${FREQ:-4999}
TOP=${TOP:-25}
OUT=${OUT:-out/waits}
command -v perf >/dev/null || { echo "perf is not installed (linux-tools)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is not installed" >&2; exit 2; }
[ -x "$HCSIM" ] || { echo "$HCSIM: not built (cargo build --release -p hcsim)" >&2; exit 2; }
mkdir -p "$OUT"

perf record -q -F "$FREQ" -o "$OUT/perf.data" -- "$HCSIM" run "$@" --out "$OUT/run" > "$OUT/run.txt"
grep -E "^(wall|tick loop)" "$OUT/run.txt"
perf script -i "$OUT/perf.data" -F tid,time,ip,sym 2>/dev/null > "$OUT/samples.txt"

python3 - "$OUT/samples.txt" "$TOP" <<'EOF'
import bisect, collections, re, sys

path, top = sys.argv[1], int(sys.argv[2])
# A thread waiting for work: the kernel's scheduler and futexes, yields,
# timely's park, rayon's idle loop.
IDLE = re.compile(r"sched_yield|schedule|futex|yield_now|park|wait_until|"
                  r"do_syscall|entry_SYSCALL|syscall|finish_task_switch|"
                  r"pick_next|_raw_spin|clock_gettime|Instant|gather|step_or_park")
by_thread = collections.defaultdict(list)
for line in open(path, errors="replace"):
    # "tid time: ip symbol"
    m = re.match(r"\s*(\d+)\s+([\d.]+):\s+[0-9a-f]+\s+(.*)", line)
    if m:
        by_thread[m.group(1)].append((float(m.group(2)), m.group(3).strip()))
threads = sorted(by_thread, key=lambda t: -len(by_thread[t]))
workers = threads[:2]
if len(workers) < 2:
    sys.exit("fewer than two busy threads: run with --threads 2 or more")
print("thread    samples   idle")
for t in threads[:6]:
    s = by_thread[t]
    idle = sum(1 for _, sym in s if IDLE.search(sym))
    print(f"{t:>8} {len(s):>9} {100 * idle / len(s):5.1f} %")
for idle_t, busy_t in (workers, workers[::-1]):
    busy = by_thread[busy_t]
    times = [t for t, _ in busy]
    waited = collections.Counter()
    for t, sym in by_thread[idle_t]:
        if IDLE.search(sym):
            k = bisect.bisect_left(times, t)
            if k < len(busy) and not IDLE.search(busy[k][1]):
                waited[busy[k][1]] += 1
    total = sum(waited.values()) or 1
    print(f"\nwhile thread {idle_t} waited, thread {busy_t} ran "
          f"({total} samples):")
    for sym, n in waited.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {sym[:110]}")
EOF
