# `kill -9` of `hops dataset add` half-way (while it copies a large file, and
# while it reads the copy): no half version is listed, the database stays
# consistent, and the next add sweeps the leftovers and takes the version.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
printf 'id,x,label,country\n1,0.5,0,SE\n' >big.csv
expect_code 0 "$HOPS" dataset add big.csv --name big
# ~240 MB, so that the copy and the read take a while even on a fast disk.
yes '12345,0.25,1,a longer text field here' | head -n 8000000 >>big.csv
SUM=$(sha256sum big.csv | cut -d' ' -f1)

# kill_when GLOB: start an add, kill -9 it as soon as GLOB exists.
kill_when() {
    "$HOPS" dataset add big.csv --name big >add.out 2>add.err &
    PID=$!
    i=0
    while ! ls $1 >/dev/null 2>&1; do
        i=$((i + 1))
        if [ $i -gt 3000 ] || ! kill -0 $PID 2>/dev/null; then
            cat add.err >&2
            fail "the add never reached '$1'"
        fi
        sleep 0.01
    done
    kill -9 $PID
    code=0
    wait $PID || code=$?
    assert_eq "$code" 137 "(the add was to be killed half-way)"
}

check_no_half_version() {
    expect_code 0 "$HOPS" dataset list --json
    assert_eq "$(jget '[0]["latest"]' <"$T/out")" 1
    assert_eq "$(jget '[0]["versions"]' <"$T/out")" 1
    expect_code 4 "$HOPS" dataset show big:2
    assert_contains "$T/err" "its versions: 1"
    [ ! -e .hops/datasets/big/2 ] || fail "a version folder without its row"
    assert_eq "$(sqlite3 .hops/hops.db 'PRAGMA integrity_check')" ok
    assert_eq "$(sqlite3 .hops/hops.db 'SELECT count(*) FROM dataset_versions')" 1
}

kill_when '.hops/datasets/.staging/*/.partial'
check_no_half_version
ok "killed while copying: no half version listed, database consistent"

kill_when '.hops/datasets/.staging/*/big.csv'
check_no_half_version
ok "killed while reading the copy: no half version listed"

# The dead adds left staging folders; the next add sweeps them.
[ -n "$(ls -A .hops/datasets/.staging)" ] || fail "expected leftovers of the killed adds"
expect_code 0 "$HOPS" dataset add big.csv --name big --json
assert_eq "$(jget '["version"]' <"$T/out")" 2
assert_eq "$(jget '["rows"]' <"$T/out")" 8000001
assert_eq "$(jget '["sha256"]' <"$T/out")" "$SUM"
STORED=$(jget '["path"]' <"$T/out")
assert_eq "$(sha256sum "$STORED" | cut -d' ' -f1)" "$SUM"
assert_eq "$(stat -c %a "$STORED")" 444
assert_eq "$(ls -A .hops/datasets/.staging)" ""
assert_eq "$(ls -A .hops/datasets/big/2)" big.csv
ok "the next add sweeps the leftovers and stores version 2 whole"
