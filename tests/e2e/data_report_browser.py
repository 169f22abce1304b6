#!/usr/bin/python3
"""Check a `hops data report` page in a real headless browser (Debian's chromium).

    data_report_browser.py REPORT.html --screenshot OUT.png [--heading H]... [--min-svgs N]
                           [--text T]...
    data_report_browser.py --control DIR     (prove the checks catch a bad page)

Checks, each failing with a message that says what was found:
  - the file itself: no http(s) URL anywhere, no <script, no src=/href= other than
    #fragments, no url() other than url(#...), no @import;
  - the page as chromium loads it: no console messages (errors, CSP violations), no
    network request made by the page (chromium's net log), the DOM has the expected
    headings, at least N <svg> elements, no <script> element, no on* event attribute,
    and every --text in its visible text;
  - a 1200x2000 screenshot decoded here (PNG with zlib, stdlib only): not one colour,
    enough non-white pixels, several colours.
Prints a JSON summary on success. Standard library only.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def die(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def chromium(args, url, timeout=120):
    """Run chromium once on URL; returns (stdout, console lines, page requests)."""
    if not os.access(CHROMIUM, os.X_OK):
        die(CHROMIUM + " is not installed (apt-get install chromium); the report must be "
            "checked in a real browser")
    profile = tempfile.mkdtemp(prefix="hops-chromium.")
    netlog = os.path.join(profile, "net.json")
    try:
        p = subprocess.run([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile,
                                                 "--log-net-log=" + netlog] + args + [url],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        err = p.stderr.decode("utf-8", "replace")
        if p.returncode != 0:
            die("chromium exited %d:\n%s" % (p.returncode, err[-3000:]))
        console = [l for l in err.splitlines() if ":CONSOLE" in l]
        requests = page_requests(netlog)
        return p.stdout.decode("utf-8", "replace"), console, requests
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def page_requests(netlog):
    """URLs the page asked the network for. The browser's own background traffic
    (update checks and the like) has no file:// network isolation key; requests a
    file:// page makes do."""
    try:
        with open(netlog, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        die("chromium wrote no net log")
    try:
        events = json.loads(text).get("events", [])
    except ValueError:  # cut short at exit: close it
        events = json.loads(text.rstrip().rstrip(",") + "]}").get("events", [])
    by_source = {}
    for e in events:
        p = e.get("params") or {}
        sid = (e.get("source") or {}).get("id")
        if "url" in p:
            by_source.setdefault(sid, {})["url"] = p["url"]
        if "network_isolation_key" in p:
            by_source.setdefault(sid, {})["nik"] = p["network_isolation_key"]
    return sorted({s["url"] for s in by_source.values()
                   if "file://" in s.get("nik", "") and not s.get("url", "").startswith("file:")})


class Dom(html.parser.HTMLParser):
    """What the checks need from the serialized DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings, self.svgs, self.scripts, self.handlers = [], 0, 0, []
        self.text, self._heading = [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "svg":
            self.svgs += 1
        elif tag == "script":
            self.scripts += 1
        self.handlers += ["<%s %s>" % (tag, k) for k, _ in attrs if k.lower().startswith("on")]

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def png_pixels(path):
    """Decode an 8-bit, non-interlaced PNG: (width, height, channels, rows of bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        die(path + " is not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            die(path + ": bad CRC in a %r chunk" % kind)
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or interlace or not channels:
        die("%s: unsupported PNG (depth %d, colour type %d, interlace %d)"
            % (path, depth, ctype, interlace))
    raw, stride, bpp = zlib.decompress(b"".join(idat)), w * channels, channels
    rows, prev = [], bytearray(stride)
    for y in range(h):
        ft, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ft == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif ft != 0:
            die("%s: bad PNG filter %d in row %d" % (path, ft, y))
        rows.append(bytes(line))
        prev = line
    return w, h, channels, rows


def screenshot_stats(path):
    w, h, ch, rows = png_pixels(path)
    colours, nonwhite, total = {}, 0, 0
    for row in rows:
        for x in range(0, w * ch, ch * 2):  # every other pixel is plenty
            px = row[x:x + min(ch, 3)]
            colours[px] = colours.get(px, 0) + 1
            total += 1
            if min(px) < 235:
                nonwhite += 1
    return {"width": w, "height": h, "colours": len(colours),
            "nonwhite_share": round(nonwhite / total, 4),
            "top_colour_share": round(max(colours.values()) / total, 4)}


def static_checks(text):
    """What the file must not hold. Data is escaped text, so real markup is every
    "<name ...>": attributes are checked there, URLs and <script anywhere."""
    bad = []
    tags = "\n".join(re.findall(r"<[A-Za-z][^>]*>", text))
    for where, pattern, what in [
            (text, r"(?i)https?:", "an http(s) URL"),
            (text, r"(?i)<script", "a <script"),
            (text, r"(?i)@import", "@import"),
            (tags, r"(?i)\b(src|href)\s*=\s*(?![\"']?#)", "a src/href that is not a #fragment"),
            (tags, r"(?i)url\((?!#)", "a url() that is not url(#...)"),
            (tags, r"(?i)\son[a-z]+\s*=", "an event-handler attribute"),
            (tags, r"(?i)=\"[^\"]*\b(nan|inf)", "NaN or Inf in an attribute")]:
        m = re.search(pattern, where)
        if m:
            bad.append("%s: %r" % (what, where[max(0, m.start() - 40):m.end() + 40]))
    return bad


def check(args):
    path = os.path.abspath(args.report)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    bad = static_checks(text)
    if bad:
        die(path + " is not self-contained:\n  " + "\n  ".join(bad))
    url = "file://" + path
    dom_text, console, requests = chromium(["--dump-dom"], url)
    if console:
        die("console messages while loading the page:\n  " + "\n  ".join(console))
    if requests:
        die("the page made network requests: " + ", ".join(requests))
    dom = Dom()
    dom.feed(dom_text)
    if dom.scripts:
        die("the DOM has %d <script> element(s)" % dom.scripts)
    if dom.handlers:
        die("the DOM has event-handler attributes: " + ", ".join(dom.handlers))
    missing = [h for h in args.heading if h not in dom.headings]
    if missing:
        die("headings missing from the DOM: %s (found %s)" % (missing, dom.headings))
    if dom.svgs < args.min_svgs:
        die("the DOM has %d <svg> elements, expected at least %d" % (dom.svgs, args.min_svgs))
    visible = "".join(dom.text)
    for t in args.text:
        if t not in visible:
            die("the page's text does not contain %r" % t)
    _, console2, requests2 = chromium(["--screenshot=" + os.path.abspath(args.screenshot),
                                       "--window-size=1200,2000"], url)
    if console2 or requests2:
        die("console messages or requests while taking the screenshot: %s %s"
            % (console2, requests2))
    shot = screenshot_stats(args.screenshot)
    if (shot["width"], shot["height"]) != (1200, 2000):
        die("screenshot is %dx%d, expected 1200x2000" % (shot["width"], shot["height"]))
    if shot["colours"] < 8 or shot["top_colour_share"] > 0.97 or shot["nonwhite_share"] < 0.02:
        die("the screenshot looks blank: %s" % shot)
    print(json.dumps({"headings": dom.headings, "svgs": dom.svgs, "console": console,
                      "requests": requests, "screenshot": shot, "bytes": len(text.encode())}))


def control(directory):
    """A page that breaks every rule must fail every check: else the checks prove nothing."""
    page = os.path.join(os.path.abspath(directory), "control.html")
    with open(page, "w") as f:
        f.write('<!DOCTYPE html><html><head><meta charset="utf-8"><title>c</title></head><body>'
                '<h1>control</h1><img src="http://127.0.0.1:9/x.png">'
                '<script>console.error("boom")</script></body></html>')
    with open(page) as f:
        bad = static_checks(f.read())
    dom_text, console, requests = chromium(["--dump-dom"], "file://" + page)
    dom = Dom()
    dom.feed(dom_text)
    found = {"static": len(bad), "console": len(console), "requests": requests,
             "scripts": dom.scripts}
    if len(bad) < 2 or not any("boom" in l for l in console) or \
            "http://127.0.0.1:9/x.png" not in requests or dom.scripts != 1:
        die("the checks missed what the control page does: %s" % found)
    print(json.dumps(found))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report", nargs="?")
    ap.add_argument("--screenshot")
    ap.add_argument("--heading", action="append", default=[])
    ap.add_argument("--text", action="append", default=[])
    ap.add_argument("--min-svgs", type=int, default=1)
    ap.add_argument("--control")
    args = ap.parse_args()
    if args.control:
        control(args.control)
    elif args.report and args.screenshot:
        check(args)
    else:
        ap.error("give REPORT.html --screenshot OUT.png, or --control DIR")


if __name__ == "__main__":
    main()
