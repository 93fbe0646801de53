# Shared by the CLI tests: start a sesame server on a free loopback port with
# a fresh data directory, and small assertion helpers.
# Needs: SESAME (the binary).

passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# expect_eq NAME WANT GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: want '$2', got '$3'"; fi
}

# expect_error NAME CODE COMMAND...: the command fails and its output names CODE.
expect_error() {
	local name=$1 code=$2
	shift 2
	local out
	if out=$("$@" 2>&1); then
		fail "$name: succeeded, want $code"
	elif grep -q "($code)" <<<"$out"; then
		ok "$name"
	else
		fail "$name: want $code, got: $out"
	fi
}

# start_sesame [SERVE-FLAGS...]
start_sesame() {
	DATA=$(mktemp -d)
	"$SESAME" serve --listen 127.0.0.1:0 --data "$DATA" "$@" >"$DATA/stdout" 2>"$DATA/stderr" &
	SESAME_PID=$!
	trap 'kill $SESAME_PID 2>/dev/null; wait $SESAME_PID 2>/dev/null; rm -rf "$DATA"' EXIT
	for _ in $(seq 100); do
		URL=$(grep -o 'url=http://[0-9.:]*' "$DATA/stderr" | head -1 | cut -d= -f2)
		if [ -n "$URL" ] && curl -fsS "$URL/healthz" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "sesame did not start:" >&2
	cat "$DATA/stderr" >&2
	exit 1
}

# new_account NAME: prints "ACCESS_KEY SECRET ACCOUNT_ID"
new_account() {
	"$SESAME" accounts create "$1" --data "$DATA" --output json |
		python3 -c 'import json,sys; c=json.load(sys.stdin); print(c["AccessKeyId"], c["SecretAccessKey"], c["AccountId"])'
}

summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
