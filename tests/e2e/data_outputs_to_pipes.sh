# Outputs that are not regular files (a FIFO, /dev/stdout, /dev/null) are
# written in place: the atomic temp-file-and-rename is only for regular files,
# and must never replace a device or a pipe with a file.
. "$(dirname "$0")/lib.sh"

IN="$HOPS_SOURCE_DIR/examples/data/customers.csv"
NEW="$HOPS_SOURCE_DIR/examples/data/customers_new.csv"

through_fifo() { # NAME CMD...: run CMD writing to the FIFO NAME, collect what came out
    name=$1
    shift
    mkfifo "$name"
    cat "$name" >"$name.got" &
    reader=$!
    expect_code "${WANT:-0}" "$@"
    wait $reader
    [ -p "$name" ] || fail "$name is no longer a FIFO"
    ls -a | grep -q "$name.tmp" && fail "a temp file was left beside $name"
    return 0
}

through_fifo t.fifo "$HOPS" data transform "$IN" -o t.fifo --filter 'age > 30'
[ "$(wc -l <t.fifo.got)" -gt 100 ] || fail "transform wrote nothing through the FIFO"
head -1 t.fifo.got | grep -q '^id,age,country' || fail "transform output lacks its header"
ok "transform writes into a FIFO"

through_fifo s.fifo "$HOPS" data schema "$IN" -o s.fifo
assert_contains s.fifo.got '"columns"'
"$HOPS" data schema "$IN" -o schema.json >/dev/null
WANT=1 through_fifo q.fifo "$HOPS" data validate "$NEW" --schema schema.json --quarantine q.fifo
[ "$(wc -l <q.fifo.got)" -ge 2 ] || fail "no quarantined rows came through the FIFO"
through_fifo r.fifo "$HOPS" data report "$IN" -o r.fifo
assert_contains r.fifo.got "<svg"
ok "schema, quarantine and report write into FIFOs"

# /dev/stdout is a pipe here (ctest captures it): the same path.
expect_code 0 "$HOPS" data transform "$IN" -o /dev/stdout --select id,age
head -1 "$T/out" | grep -q '^id,age$' || fail "transform -o /dev/stdout"
ok "-o /dev/stdout writes to standard output"

# Standard output redirected to a file that already holds lines: the data is
# written after them through our own descriptor, never by reopening
# /dev/stdout (which would truncate the file and write over its start).
{ echo "first line"; "$HOPS" data transform "$IN" -o - --filter 'age > 30' 2>/dev/null; echo "last line"; } >log.txt
[ "$(head -1 log.txt)" = "first line" ] || fail "the lines before the data were lost: $(head -2 log.txt)"
[ "$(tail -1 log.txt)" = "last line" ] || fail "the lines after the data were lost"
sed -n 2p log.txt | grep -q '^id,age,country' || fail "the data does not follow the first line"
{ echo "first line"; "$HOPS" data transform "$IN" -o /dev/stdout --filter 'age > 30' 2>/dev/null; } >>log.txt
[ "$(head -1 log.txt)" = "first line" ] && [ "$(grep -c '^first line$' log.txt)" = 2 ] ||
    fail "-o /dev/stdout into an appended file overwrote it"
ok "-o - and -o /dev/stdout into a redirected file append after what is there"
