# `hops data report --stats`: render a saved statistics document (the sample
# in the format of `hops data stats --json`) and check it in chromium.
. "$(dirname "$0")/lib.sh"
CHECK="$PY $HOPS_SOURCE_DIR/tests/e2e/data_report_browser.py"
SAMPLE="$HOPS_SOURCE_DIR/tests/e2e/data_report_sample.json"

expect_code 0 "$HOPS" data report --stats "$SAMPLE" -o sample.html
assert_contains "$T/out" "wrote sample.html"
assert_contains sample.html "<h1>customers.csv</h1>"
$CHECK sample.html --screenshot shot.png --min-svgs 12 \
    --heading customers.csv --heading Overview --heading Nulls --heading Histograms \
    --heading "Top values" --heading "Class balance" --heading Correlation \
    --text "No values: every row is null." --text "see ticket #4 & <b>x</b>" >check.json
cat check.json
ok "the sample document renders in chromium with every section"

expect_code 0 "$HOPS" data report --stats "$SAMPLE" -o titled.html --title "Q3 <customers>"
assert_contains titled.html "<h1>Q3 &lt;customers&gt;</h1>"
ok "--title with --stats"

# The stats command's own output renders the same way (when it exists).
if "$HOPS" data stats --help >/dev/null 2>&1; then
    printf 'a,b,c\n1,2,x\n2,4,y\n3,7,x\n,9,\n' >small.csv
    "$HOPS" data stats small.csv --correlation --json >small.json
    expect_code 0 "$HOPS" data report --stats small.json -o small.html
    assert_contains small.html '<section id="histograms">'
    assert_contains small.html '<section id="correlation">'
    ok "a document from \`hops data stats --json\` renders"
fi
