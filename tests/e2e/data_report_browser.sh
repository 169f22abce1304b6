# `hops data report` end to end: a generated CSV with numbers, categories,
# nulls, UTF-8 and a label becomes one self-contained HTML page, which
# chromium loads without console messages or network requests, whose DOM has
# every section with its plots, and whose screenshot is not blank.
. "$(dirname "$0")/lib.sh"
CHECK="$PY $HOPS_SOURCE_DIR/tests/e2e/data_report_browser.py"

# First prove the browser checks can fail: a page with a remote image and a
# script must be caught by every one of them.
$CHECK --control "$T" >control.json
ok "the checks catch a page that loads a URL and runs a script"

"$PY" - <<'PY'
import random
r = random.Random(4)
countries = ["SE"] * 30 + ["NO"] * 15 + ["DK"] * 12 + ["FI"] * 10 + ["DE", "FR", "ES", "IT"] * 4
with open("data.csv", "w", encoding="utf-8") as f:
    f.write("id,age,income,score,country,comment,active,y\n")
    for i in range(2000):
        age = round(r.gauss(41, 12))
        score = 0.02 * age + r.gauss(0, 0.5)
        y = 1 if score + r.gauss(0, 0.6) > 1.4 else 0
        income = "" if r.random() < 0.15 else "%.2f" % (2.7 ** r.gauss(10.5, 0.5))
        comment = r.choice(["", "", "ok", "n/a", "Tack så mycket", "日本語のコメント", '"""quoted"", with comma"'])
        f.write("%d,%s,%s,%.4f,%s,%s,%s,%d\n" % (
            i, "" if r.random() < 0.01 else age, income, score,
            "" if r.random() < 0.05 else r.choice(countries), comment,
            r.choice(["true", "false"]), y))
PY

expect_code 0 "$HOPS" data report data.csv --label y -o report.html
assert_contains "$T/out" "wrote report.html"
[ -s report.html ] || fail "no report.html"
ls report.html.tmp.* >/dev/null 2>&1 && fail "a temp file was left beside the report"
if grep -Eiq 'https?:' report.html; then
    grep -Eio '.{40}https?:.{40}' report.html >&2; fail "the report references an http(s) URL"
fi
grep -qi '<script' report.html && fail "the report has a <script"
SIZE=$(wc -c <report.html | tr -d ' ')
[ "$SIZE" -lt 200000 ] || fail "the report is $SIZE bytes; it should stay small"
for id in overview nulls histograms top-values class-balance correlation; do
    assert_contains report.html "<section id=\"$id\">"
done
assert_contains report.html "Tack så mycket"
assert_contains report.html "&quot;quoted&quot;, with comma"
ok "the report is one file of $SIZE bytes with every section and no URL"

# 11 plots: 5 histograms (id, age, income, score, y), 3 top-value charts
# (country, comment, active), the null bars, the class balance, the heatmap.
$CHECK report.html --screenshot shot.png --min-svgs 11 \
    --heading data.csv --heading Overview --heading Nulls --heading Histograms \
    --heading "Top values" --heading "Class balance" --heading Correlation \
    --text "Tack så mycket" --text "imbalance ratio" >check.json
cat check.json
ok "chromium loads it: headings, plots, no console messages, no requests, a non-blank screenshot"

# The same file read with other options gives the same page (the stats do not
# depend on the thread count), and the title can be set.
expect_code 0 "$HOPS" data report data.csv --label y --threads 1 -o one.html
cmp -s report.html one.html || fail "--threads 1 changed the report"
expect_code 0 "$HOPS" data report data.csv -o titled.html --title "Customers <2024>"
assert_contains titled.html "<h1>Customers &lt;2024&gt;</h1>"
grep -q 'id="class-balance"' titled.html && fail "no --label, yet a class balance section"
ok "the report is the same with one thread; --title is escaped; no label, no class balance"

# Rewriting an existing report replaces it whole.
cp report.html before.html
expect_code 0 "$HOPS" data report data.csv --label y -o report.html
cmp -s report.html before.html || fail "the second report differs from the first"
ok "writing again replaces the file"

# A project dataset by NAME[:VERSION], titled by that name.
"$HOPS" init >/dev/null
"$HOPS" dataset add data.csv --name customers >/dev/null
expect_code 0 "$HOPS" data report customers:1 --label y -o dataset.html
assert_contains dataset.html "<h1>customers:1</h1>"
assert_contains dataset.html '<section id="class-balance">'
expect_code 4 "$HOPS" data report nosuchdataset -o nothing.html
assert_contains "$T/err" "nosuchdataset"
[ -e nothing.html ] && fail "a report for a dataset that does not exist"
ok "a dataset NAME[:VERSION] is reported under its name"
