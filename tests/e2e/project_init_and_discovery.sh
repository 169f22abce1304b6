# hops init, finding the project by walking up or through HOPS_PROJECT,
# and the message outside any project.
. "$(dirname "$0")/lib.sh"

expect_code 3 "$HOPS" runs list
assert_contains "$T/err" "not inside a hops project"
assert_contains "$T/err" "hops init"
ok "outside a project: exit 3 with a hint"

expect_code 0 "$HOPS" init proj
assert_contains "$T/out" "Initialized"
[ -f proj/.hops/hops.db ] || fail "no hops.db"
[ "$(sqlite3 proj/.hops/hops.db 'PRAGMA journal_mode')" = "wal" ] || fail "not WAL"
[ "$(sqlite3 proj/.hops/hops.db 'PRAGMA application_id')" = "1213157459" ] || fail "application id"
[ "$(sqlite3 proj/.hops/hops.db 'PRAGMA user_version')" -ge 1 ] || fail "schema version"
ok "init creates .hops/hops.db in WAL mode with the schema version"

expect_code 0 "$HOPS" init proj
assert_contains "$T/out" "already a hops project"
expect_code 0 "$HOPS" init --json proj
[ "$(jget '["created"]' <"$T/out")" = "false" ] || fail "second init created"
ok "init twice changes nothing"

mkdir -p proj/a/b/c
(cd proj/a/b/c && "$HOPS" run --quiet -- true) >/dev/null 2>&1 || fail "run from a subdirectory"
(cd proj && "$HOPS" runs list --json) >"$T/list"
[ "$(jget '.__len__()' <"$T/list")" = 1 ] || fail "the run made in a subdirectory is not in the project"
ok "commands find the project by walking up"

mkdir other
(cd other && HOPS_PROJECT="$T/proj" "$HOPS" runs list --json) >"$T/list"
[ "$(jget '.__len__()' <"$T/list")" = 1 ] || fail "HOPS_PROJECT not honoured"
expect_code 3 env HOPS_PROJECT="$T/other" "$HOPS" runs list
assert_contains "$T/err" "not a hops project"
ok "HOPS_PROJECT selects the project"

expect_code 2 "$HOPS" init --bogus
expect_code 2 "$HOPS" nosuchcommand
assert_contains "$T/err" "not a hops command"
ok "bad usage exits 2"
