# On a terminal (a pty from script(1)), the child owns it while it runs: it can
# read input, and Ctrl-C at the keyboard reaches it; the run is KILLED.
. "$(dirname "$0")/lib.sh"

command -v script >/dev/null || fail "script(1) (bsdutils) is needed"
"$HOPS" init >/dev/null
cat >ask.sh <<'TRIAL'
printf 'name? '
read name
echo "hello $name"
echo '{"final": {"answered": 1}}' >>"$HOPS_REPORT"
TRIAL
(sleep 1; echo bob) | script -qfec "$HOPS run -- sh ask.sh" /dev/null | tr -d '\r' >tty1.txt
assert_contains tty1.txt "hello bob"
"$HOPS" runs list --json >l.json
assert_eq "$(jget '[0]["state"]' <l.json)" FINISHED
assert_eq "$(jget '[0]["metrics"]["answered"]' <l.json)" 1.0
ok "a child reads the terminal through hops run"

cat >loop.sh <<'TRIAL'
echo started
while :; do sleep 0.1; done
TRIAL
(sleep 1; printf '\003'; sleep 1) | script -qfec "$HOPS run -- sh loop.sh" /dev/null | tr -d '\r' >tty2.txt
assert_contains tty2.txt "KILLED (exit 130)"
"$HOPS" runs list --json >l.json
assert_eq "$(jget '[0]["state"]' <l.json)" KILLED
assert_contains l.json "Ctrl-C"
ok "Ctrl-C at the terminal reaches the child; the run is KILLED"
