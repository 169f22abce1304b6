# The quarantine file holds the failing records byte for byte, each with its
# own line ending, even in a file that mixes LF and CRLF and whose last line
# has no newline.
. "$(dirname "$0")/lib.sh"

printf 'id,age\n3,30\n7,40\n' >good.csv
"$HOPS" data schema good.csv -o schema.json >/dev/null
printf 'id,age\n3,-1\r\n4,35\n5,"-2"\n6,38\r\n7,-3' >mixed.csv
expect_code 1 "$HOPS" data validate mixed.csv --schema schema.json --quarantine bad.csv
printf 'id,age\n3,-1\r\n5,"-2"\n7,-3' >want.csv
cmp bad.csv want.csv || { od -c bad.csv >&2; fail "quarantine bytes differ"; }
ok "failing records are quarantined byte for byte with their own line endings"
