# Hostile column names, values and file names reach the report as text, never
# as markup: no <script> element in the DOM chromium builds from the page.
. "$(dirname "$0")/lib.sh"
CHECK="$PY $HOPS_SOURCE_DIR/tests/e2e/data_report_browser.py"

NAME='a<b>&"c" '"'"'d.csv'
"$PY" - "$NAME" <<'PY'
import sys
rows = ['"<script>alert(1)</script>","a ""quoted"" & \'x\'",Åsa 日本 🙂,</svg><h1>x,<!--']
vals = ['<img src=x onerror=alert(1)>', '"><script>alert(2)</script>', '&amp;', "'; --", '</title>']
def q(v):
    return '"' + v.replace('"', '""') + '"'
for i in range(60):
    rows.append('%d,%s,%.1f,%s,%d' % (i, q(vals[i % 5]), i * 0.5,
                                       q(vals[(i + 1) % 5]) if i % 7 else '', i % 3))
open(sys.argv[1], "w", encoding="utf-8").write("\n".join(rows) + "\n")
PY

expect_code 0 "$HOPS" data report "$NAME" --label '<!--' -o report.html
grep -qi '<script' report.html && fail "a <script in the report"
grep -qi '<img' report.html && fail "an <img in the report"
grep -q '<!--' report.html && fail "a comment opener in the report"
assert_contains report.html '&lt;script&gt;alert(1)&lt;/script&gt;'
assert_contains report.html 'a &quot;quoted&quot; &amp; &#39;x&#39;'
assert_contains report.html '&lt;img src=x onerror=alert(1)&gt;'
assert_contains report.html '&lt;/svg&gt;&lt;h1&gt;x'
assert_contains report.html '<h1>a&lt;b&gt;&amp;&quot;c&quot; &#39;d.csv</h1>'
assert_contains report.html 'Åsa 日本 🙂'
ok "every hostile string is escaped in the file"

# 8 plots: 3 histograms, 2 top-value charts, nulls, class balance, heatmap.
$CHECK report.html --screenshot shot.png --min-svgs 8 \
    --heading "a<b>&\"c\" 'd.csv" --heading Overview --heading Nulls --heading "Class balance" \
    --text '<script>alert(1)</script>' --text '<img src=x onerror=alert(1)>' \
    --text "a \"quoted\" & 'x'" --text 'Åsa 日本 🙂' >check.json
cat check.json
ok "chromium shows them as text: no script element, no handler, no console message"
