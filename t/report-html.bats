#!/usr/bin/env bats
# report-html.bats: the HTML report opens in headless Chromium with no console error, its SVG
# charts are in the rendered DOM, a screenshot is not blank, and it prints to PDF.
# Chromium is installed here when missing and running as root; otherwise the tests skip.

load helper

chromium_bin() {
	command -v chromium || command -v chromium-browser || command -v google-chrome
}

setup_file() {
	if ! chromium_bin >/dev/null && [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 || true
	fi
	export REPORT_HTML="$BATS_FILE_TMPDIR/report.html"
	anon-report --format html -o "$REPORT_HTML" "$DATA/report/demo.jsonl"
}

browser() {
	local c
	c=$(chromium_bin) || skip "chromium is not installed (apt-get install -y chromium, as root)"
	timeout 90 "$c" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$BATS_TEST_TMPDIR/profile.XXXXXX")" "$@"
}

@test "the HTML is one self-contained file: no script, nothing fetched" {
	run -0 grep -c '<svg' "$REPORT_HTML"
	run -1 grep -E '<script|src=|href="http|@import' "$REPORT_HTML"
	run -0 grep -c '@media print' "$REPORT_HTML"
}

@test "headless Chromium renders every chart, with no console error" {
	run -0 --separate-stderr browser --enable-logging=stderr --v=0 --dump-dom "file://$REPORT_HTML"
	assert_output --partial '<svg id="chart-rows"'
	assert_output --partial '<svg id="chart-treatment"'
	assert_output --partial '<svg id="chart-hist-1"'
	assert_output --partial '<svg id="chart-kanon-1"'
	run -1 grep -iE 'CONSOLE|Uncaught' <<<"$stderr"
}

@test "a screenshot shows the charts (a PNG, not blank)" {
	cd "$BATS_TEST_TMPDIR"
	browser --screenshot=shot.png --window-size=1200,1600 "file://$REPORT_HTML" 2>/dev/null
	assert_file_exists shot.png
	run -0 python3 -c '
import sys, zlib, struct
d = open("shot.png", "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
i, idat, w = 8, b"", 0
while i < len(d):
    n, t = struct.unpack(">I4s", d[i:i+8])
    if t == b"IHDR": w = struct.unpack(">I", d[i+8:i+12])[0]
    if t == b"IDAT": idat += d[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
print(len(set(raw[j:j+3] for j in range(1, min(len(raw), 4 * w * 800), 4))))
'
	[ "$output" -gt 20 ]
}

@test "chromium --print-to-pdf makes a PDF" {
	cd "$BATS_TEST_TMPDIR"
	browser --print-to-pdf=report.pdf --no-pdf-header-footer "file://$REPORT_HTML" 2>/dev/null
	run -0 head -c 5 report.pdf
	assert_output "%PDF-"
}
