#!/usr/bin/env bash
# Renders DIR/report.html in headless Chromium to DIR/report.png and checks
# the picture is not blank: a page whose charts failed to draw is mostly one
# color. Needs the Debian `chromium` package (apt-get install -y chromium)
# and python3; not part of CI.
#
#   scripts/screenshot-report.sh out/
set -euo pipefail

dir=${1:?usage: scripts/screenshot-report.sh DIR, the output directory of hcsim run}
html="$dir/report.html"
png="$dir/report.png"
[ -f "$html" ] || { echo "error: $html does not exist (run: hcsim run SCENARIO --out $dir)" >&2; exit 2; }

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "error: chromium not found (apt-get install -y chromium)" >&2; exit 2; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$png"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars \
  --screenshot="$(realpath -m "$png")" --window-size=1400,3000 \
  "file://$(realpath "$html")" >/dev/null 2>&1 || true
[ -s "$png" ] || { echo "error: chromium wrote no screenshot to $png" >&2; exit 1; }

# Decodes the PNG with the standard library alone and counts its colors.
python3 - "$png" <<'PY'
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"error: {path} is not a PNG")
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, color_type, _, _, interlace = header
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color_type)
if depth != 8 or channels is None or interlace:
    sys.exit(f"error: {path}: unsupported PNG layout (depth {depth}, color type {color_type})")
raw = zlib.decompress(idat)
stride = width * channels
rows, prev, i = [], bytearray(stride), 0
for _ in range(height):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - channels] if x >= channels else 0
        b, c = prev[x], (prev[x - channels] if x >= channels else 0)
        if kind == 1: line[x] = (line[x] + a) & 255
        elif kind == 2: line[x] = (line[x] + b) & 255
        elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(bytes(line))
    prev = line
colors, background = {}, None
for row in rows[::4]:
    for x in range(0, stride, channels * 4):
        px = row[x:x + 3]
        colors[px] = colors.get(px, 0) + 1
total = sum(colors.values())
background, most = max(colors.items(), key=lambda kv: kv[1])
ink = 1 - most / total
print(f"{path}: {width}x{height}, {len(colors)} distinct colors sampled, {ink:.1%} not background")
if len(colors) < 16 or ink < 0.02:
    sys.exit(f"error: {path} looks blank")
PY
