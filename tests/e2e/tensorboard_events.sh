# Every metric reported with a step also lands in RUN_DIR/tb as TensorBoard
# scalar summaries; decoded with python3-protobuf and a .proto kept here.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
cat >trial.sh <<'TRIAL'
for i in 0 1 2 3 4 5 6 7 8 9; do
    echo "{\"step\": $i, \"metrics\": {\"loss\": $i.5, \"val/acc\": 0.0$i}}" >>"$HOPS_REPORT"
done
echo '{"step": -3, "metrics": {"neg": 1}}' >>"$HOPS_REPORT"
echo '{"final": {"acc": 0.9}}' >>"$HOPS_REPORT"
TRIAL
expect_code 0 "$HOPS" run --quiet --json -- sh trial.sh
ID=$(run_id_of "$T/out")
DIR=$("$HOPS" runs show "$ID" --json | jget '["run_dir"]')
set -- "$DIR"/tb/events.out.tfevents.*
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected one event file in $DIR/tb, got: $*"
case "$1" in *".$(hostname)"*) ;; *) fail "event file name lacks the host: $1" ;; esac

"$PY" "$HOPS_SOURCE_DIR/tests/e2e/tb_decode.py" "$1" >tb.json
"$PY" - tb.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["file_version"] == "brain.Event:2", doc["file_version"]
by_tag = {}
for s in doc["scalars"]:
    by_tag.setdefault(s["tag"], []).append((s["step"], s["value"]))
    assert s["wall_time"] > 1e9
assert sorted(by_tag) == ["loss", "neg", "val/acc"], sorted(by_tag)
assert by_tag["loss"] == [(i, i + 0.5) for i in range(10)], by_tag["loss"]
assert [st for st, _ in by_tag["val/acc"]] == list(range(10))
assert all(abs(v - i / 100) < 1e-6 for i, (_, v) in enumerate(by_tag["val/acc"])), by_tag["val/acc"]
assert by_tag["neg"] == [(-3, 1.0)], by_tag["neg"]
PY
ok "the tfevents file decodes with protobuf: file_version, tags, steps and values match"

# The decoder itself must catch corruption (so the check above can fail).
cp "$1" broken
printf 'X' | dd of=broken bs=1 seek=60 conv=notrunc 2>/dev/null
if "$PY" "$HOPS_SOURCE_DIR/tests/e2e/tb_decode.py" broken >/dev/null 2>&1; then
    fail "the decoder accepted a corrupted file"
fi
ok "a corrupted event file fails the CRC check"
