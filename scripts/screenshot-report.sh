#!/usr/bin/env bash
# Opens DIR/report.html in headless Chromium as a reader would, saves the
# whole page (1,400 px wide, its full height) as DIR/report.png, and checks that every chart the browser draws has
# data in it, not just axes: each chart in DIR/charts/*.svg is rendered by
# Chromium on its own and must have enough colored (data) pixels, since axes,
# grid and text are grey or black.
#
#   scripts/screenshot-report.sh DIR      # DIR: the output directory of hcsim run
#   scripts/screenshot-report.sh FILE.html  # any other page (compare.html,
#                                           # diff.html): FILE.png beside it;
#                                           # its inline charts are checked
#
# Needs Debian's `chromium` package and python3. When chromium is missing it
# is installed (apt-get install -y chromium) if the script runs as root;
# otherwise the check is skipped with a message and exit status 0.
# Exit status: 0 all charts have data (or skipped), 1 a chart or the page
# looks empty, 2 usage or setup error.
set -euo pipefail

dir=${1:?usage: scripts/screenshot-report.sh DIR, the output directory of hcsim run}
if [ -f "$dir" ]; then
  html=$dir
  png="${dir%.html}.png"
  dir=$(dirname "$dir")
  page=page
else
  html="$dir/report.html"
  png="$dir/report.png"
  # report.html is mostly charts: the page itself must show their colors.
  page=report
fi
[ -f "$html" ] || { echo "error: $html does not exist (run: hcsim run SCENARIO --out $dir)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "error: python3 is needed to read the screenshots" >&2; exit 2; }

find_browser() { command -v chromium || command -v chromium-browser || true; }
browser=$(find_browser)
if [ -z "$browser" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "chromium not found: installing Debian's chromium package"
    apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
    browser=$(find_browser)
  fi
  if [ -z "$browser" ]; then
    echo "SKIPPED: chromium is not installed (as root: apt-get install -y chromium); nothing was checked"
    exit 0
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shot URL PNG WIDTH HEIGHT
shot() {
  rm -f "$2"
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --default-background-color=ffffffff \
    --screenshot="$2" --window-size="$3,$4" "$1" >/dev/null 2>&1 || true
  [ -s "$2" ] || { echo "error: chromium wrote no screenshot of $1" >&2; exit 1; }
}

# The page's full height at 1,400 px: a copy of the page that writes its
# scroll height into the DOM Chromium dumps once the page has loaded.
page_height() {
  local probe="$work/height.html"
  cp "$1" "$probe"
  echo '<script>document.body.setAttribute("data-height", document.documentElement.scrollHeight)</script>' >>"$probe"
  "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1400,1000 \
    --dump-dom "file://$probe" 2>/dev/null | grep -o 'data-height="[0-9]*"' | grep -o '[0-9]\+' | head -1
}
height=$(page_height "$html")
[ -n "$height" ] || { echo "error: could not measure the height of $html" >&2; exit 1; }

# The whole page, every chart and table, at its own height.
shot "file://$(realpath "$html")" "$(realpath -m "$png")" 1400 "$height"
args=("@$page" "$png")

# A page other than report.html has no charts/ beside it: its inline
# charts, each written out under its id, are what is checked.
charts="$dir/charts"
if [ "$page" = page ]; then
  charts="$work/charts"
  python3 - "$html" "$charts" <<'PY'
import os, re, sys
html = open(sys.argv[1], encoding="utf-8").read()
os.makedirs(sys.argv[2], exist_ok=True)
for i, (name, svg) in enumerate(re.findall(r'<div class="chart" id="([^"]*)">\s*(<svg\b.*?</svg>)', html, re.S)):
    open(os.path.join(sys.argv[2], f"{name or i}.svg"), "w", encoding="utf-8").write(svg)
PY
fi

# Each chart alone, at its own size (from the SVG's width and height).
for svg in "$charts"/*.svg; do
  [ -f "$svg" ] || continue
  name=$(basename "$svg" .svg)
  read -r w h < <(python3 - "$svg" <<'PY'
import re, sys
head = open(sys.argv[1], encoding="utf-8").read(2000)
w = re.search(r'width="(\d+)', head); h = re.search(r'height="(\d+)', head)
print(w.group(1) if w else 1200, h.group(1) if h else 600)
PY
)
  shot "file://$(realpath "$svg")" "$work/$name.png" "$w" "$h"
  args+=("$name" "$work/$name.png")
done

# Decodes each PNG with the standard library alone. The page must not be
# blank; each chart must have colored pixels (channels differing by more
# than 40: the series' colors), not only grey axes and black text.
python3 - "${args[@]}" <<'PY'
import struct, sys, zlib

def pixels(path):
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
    channels = {2: 3, 6: 4}.get(color_type)
    if depth != 8 or channels is None or interlace:
        sys.exit(f"error: {path}: unsupported PNG layout (depth {depth}, color type {color_type})")
    raw = zlib.decompress(idat)
    stride = width * channels
    prev, i, out = bytearray(stride), 0, []
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
        out.append(bytes(line))
        prev = line
    return width, height, channels, out

def measure(path, step):
    width, height, channels, rows = pixels(path)
    total = colored = 0
    colors = {}
    for row in rows[::step]:
        for x in range(0, width * channels, channels * step):
            r, g, b = row[x], row[x + 1], row[x + 2]
            total += 1
            colors[(r, g, b)] = colors.get((r, g, b), 0) + 1
            if max(r, g, b) - min(r, g, b) > 40:
                colored += 1
    ink = 1 - max(colors.values()) / total
    return width, height, colored / total, ink, len(colors)

failed = False
items = sys.argv[1:]
for name, path in zip(items[::2], items[1::2]):
    if name in ("@report", "@page"):
        w, h, colored, ink, n = measure(path, 4)
        # Other pages are mostly tables; their charts are checked one by one.
        ok = n >= 16 and ink >= 0.02 and (colored >= 0.005 or name == "@page")
        print(f"{'ok  ' if ok else 'FAIL'} {path}: {w}x{h}, {ink:.1%} not background, {colored:.2%} colored")
    else:
        w, h, colored, ink, n = measure(path, 2)
        ok = colored >= 0.003
        print(f"{'ok  ' if ok else 'FAIL'} chart {name}: {w}x{h}, {colored:.2%} of pixels in data colors")
    failed |= not ok
if failed:
    sys.exit("error: some charts show no data (empty axes) or the page is blank")
PY
