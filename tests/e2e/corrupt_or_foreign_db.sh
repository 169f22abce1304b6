# A damaged, foreign or newer hops.db is refused with a clear message, a
# distinct exit code, and the file is left byte-for-byte untouched.
. "$(dirname "$0")/lib.sh"

"$HOPS" init >/dev/null
"$HOPS" run --quiet -- true 2>/dev/null
DB=.hops/hops.db
sqlite3 "$DB" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null

check_refused() { # $1: what
    before=$(sha256sum "$DB")
    expect_code 5 "$HOPS" runs list
    assert_contains "$T/err" "left untouched"
    expect_code 5 "$HOPS" run -- true
    after=$(sha256sum "$DB")
    [ "$before" = "$after" ] || fail "$1: hops.db was modified"
    [ ! -s "$DB-wal" ] || fail "$1: a WAL appeared"
    ok "$1: refused with exit 5, file untouched"
}

cp "$DB" good.db
head -c 8192 /dev/urandom >"$DB"
rm -f "$DB-wal" "$DB-shm"
check_refused "random bytes"

cp good.db "$DB"
dd if=/dev/urandom of="$DB" bs=1 seek=0 count=100 conv=notrunc 2>/dev/null
check_refused "a smashed header"

rm -f "$DB"
sqlite3 "$DB" 'CREATE TABLE users(name TEXT); INSERT INTO users VALUES ("x");'
expect_code 5 "$HOPS" runs list
assert_contains "$T/err" "not a hops one"
check_refused "someone else's SQLite database"
assert_eq "$(sqlite3 "$DB" 'SELECT name FROM users')" x

rm -f "$DB"
cp good.db "$DB"
sqlite3 "$DB" 'PRAGMA user_version = 999'
before=$(sha256sum "$DB")
expect_code 5 "$HOPS" runs list
assert_contains "$T/err" "upgrade hops"
[ "$before" = "$(sha256sum "$DB")" ] || fail "newer db modified"
ok "a database from a newer hops: exit 5, asks to upgrade"

rm -f "$DB" "$DB-wal" "$DB-shm"
expect_code 5 "$HOPS" runs list
assert_contains "$T/err" "has no hops.db"
[ ! -e "$DB" ] || fail "a missing hops.db was silently recreated"
ok "a missing hops.db is reported, not recreated behind the user's back"

cp good.db "$DB"
expect_code 0 "$HOPS" runs list
ok "the good copy still opens"
