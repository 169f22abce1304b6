# Several `hops dataset add` processes at once on one name: each different
# file gets its own version number (1..N, no gaps, no clashes), each stored
# copy matches the file it came from, and the database stays consistent.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
N=6
i=1
while [ $i -le $N ]; do
    { echo "k,v"; seq 1 $((i * 20000)) | sed "s/\$/,$i/"; } >"f$i.csv"
    i=$((i + 1))
done

PIDS=""
i=1
while [ $i -le $N ]; do
    "$HOPS" dataset add "f$i.csv" --name shared --json >"add$i.json" 2>"add$i.err" &
    PIDS="$PIDS $!"
    i=$((i + 1))
done
for pid in $PIDS; do
    wait "$pid" || fail "an add failed: $(cat add*.err)"
done

expect_code 0 "$HOPS" dataset versions shared --json
cp "$T/out" versions.json
assert_eq "$(jget '[-1]["version"]' <versions.json)" $N
"$PY" - "$N" <<'EOF' || fail "versions do not match the files"
import json, sys, hashlib
n = int(sys.argv[1])
versions = json.load(open("versions.json"))
assert [v["version"] for v in versions] == list(range(1, n + 1)), versions
seen = set()
for i in range(1, n + 1):
    add = json.load(open(f"add{i}.json"))
    assert add["added"] is True
    want = hashlib.sha256(open(f"f{i}.csv", "rb").read()).hexdigest()
    assert add["sha256"] == want
    assert hashlib.sha256(open(add["path"], "rb").read()).hexdigest() == want
    assert add["rows"] == i * 20000, (add["rows"], i)
    seen.add(add["version"])
assert seen == set(range(1, n + 1)), seen
EOF
assert_eq "$(ls -A .hops/datasets/.staging)" ""
assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
ok "$N concurrent adds: versions 1..$N, each copy matches its file"
