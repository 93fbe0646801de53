#!/usr/bin/env bash
# Issue 3's "done when", as a newcomer would do it: Knot DNS serves a zone on
# loopback, the aws CLI creates a domain identity, knsupdate publishes its
# records, and the aws CLI sees Pending turn to Success within 10 seconds; a
# token that a provider lowercased stays Pending, and the API and
# `sesame identities show` say why.
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
. ./lib.sh

KNOTD=$(command -v knotd || echo /usr/sbin/knotd)
if [ ! -x "$KNOTD" ] || ! command -v knsupdate >/dev/null || ! command -v kdig >/dev/null; then
	echo "FAIL knotd, knsupdate and kdig are needed: apt-get install knot knot-dnsutils (scripts/install-test-deps.sh)"
	exit 1
fi

# Knot, authoritative for example.test on 127.0.0.1, is also the resolver
# Sesame asks for the zone's name servers.
KDIR=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SECRET=$(head -c 32 /dev/urandom | base64)
mkdir -p "$KDIR/zones" "$KDIR/db" "$KDIR/run"
cat >"$KDIR/zones/example.test.zone" <<EOF
\$TTL 60
@    SOA ns1 hostmaster 1 7200 3600 1209600 60
@    NS  ns1
ns1  A   127.0.0.1
EOF
cat >"$KDIR/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$PORT
    rundir: $KDIR/run
log:
  - target: stderr
    any: warning
database:
    storage: $KDIR/db
key:
  - id: update-key
    algorithm: hmac-sha256
    secret: $SECRET
acl:
  - id: update
    key: update-key
    action: update
template:
  - id: default
    storage: $KDIR/zones
    zonefile-sync: -1
zone:
  - domain: example.test
    acl: update
EOF
"$KNOTD" -c "$KDIR/knot.conf" 2>"$KDIR/stderr" &
KNOT_PID=$!
for _ in $(seq 100); do
	[ -n "$(kdig @127.0.0.1 -p "$PORT" example.test SOA +short 2>/dev/null)" ] && break
	sleep 0.1
done
[ -n "$(kdig @127.0.0.1 -p "$PORT" example.test SOA +short 2>/dev/null)" ] || { echo "FAIL knotd did not start:"; cat "$KDIR/stderr"; exit 1; }

start_sesame --resolver "127.0.0.1:$PORT" --dns-port "$PORT"
trap 'kill $SESAME_PID $KNOT_PID 2>/dev/null; wait $SESAME_PID $KNOT_PID 2>/dev/null; rm -rf "$DATA" "$KDIR"' EXIT

publish() { # publish NSUPDATE-LINES...
	{
		echo "server 127.0.0.1 $PORT"
		echo "zone example.test"
		echo "key hmac-sha256:update-key $SECRET"
		for l in "$@"; do echo "update $l"; done
		echo send
	} | knsupdate
}

read -r AK SK _ < <(new_account newcomer)
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_PAGER="" AWS_DEFAULT_OUTPUT=json
a() { aws --endpoint-url "$URL" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status() { # status REGION
	a --region "$1" ses get-identity-verification-attributes --identities example.test | jq_ 'd["VerificationAttributes"]["example.test"]["VerificationStatus"]'
}

TOKEN=$(a --region us-east-1 ses verify-domain-identity --domain example.test | jq_ 'd["VerificationToken"]')
read -r D1 D2 D3 < <(a --region us-east-1 ses verify-domain-dkim --domain example.test | jq_ '" ".join(d["DkimTokens"])')
sleep 2 # the first check, within a second of creation, finds nothing
expect_eq "pending before the records are published" Pending "$(status us-east-1)"

publish "add _amazonses.example.test. 60 TXT \"$TOKEN\"" \
	"add $D1._domainkey.example.test. 60 CNAME $D1.dkim.amazonses.com." \
	"add $D2._domainkey.example.test. 60 CNAME $D2.dkim.amazonses.com." \
	"add $D3._domainkey.example.test. 60 CNAME $D3.dkim.amazonses.com."
published=$(date +%s.%N)
got=Pending
while [ "$got" != Success ] && python3 -c "import sys,time; sys.exit(time.time() - $published > 15)"; do
	sleep 0.5
	got=$(status us-east-1)
done
took=$(python3 -c "import time; print(round(time.time() - $published, 1))")
if [ "$got" = Success ] && python3 -c "import sys; sys.exit($took > 10)"; then
	ok "Success ${took} s after knsupdate published the records"
else
	fail "after ${took} s: $got, want Success within 10 s"
fi
got=$(a --region us-east-1 ses get-identity-dkim-attributes --identities example.test | jq_ 'd["DkimAttributes"]["example.test"]["DkimVerificationStatus"]')
expect_eq "DKIM verified" Success "$got"

# The same domain in another region has its own token; a provider that
# lowercased it leaves the identity Pending, with the reason.
T2=$(a --region eu-west-1 ses verify-domain-identity --domain example.test | jq_ 'd["VerificationToken"]')
lower=$(tr '[:upper:]' '[:lower:]' <<<"$T2")
publish "add _amazonses.example.test. 60 TXT \"$lower\""
published=$(date +%s)
checked=0
for _ in $(seq 30); do
	# Epoch seconds (aws CLI v1) or ISO 8601 (v2).
	checked=$(a --region eu-west-1 sesv2 get-email-identity --email-identity example.test | python3 -c '
import datetime, json, sys
t = json.load(sys.stdin).get("VerificationInfo", {}).get("LastCheckedTimestamp") or 0
print(int(t if isinstance(t, (int, float)) else datetime.datetime.fromisoformat(t).timestamp()))')
	[ "$checked" -gt "$published" ] && break
	sleep 0.5
done
[ "$checked" -gt "$published" ] || fail "no check within 15 s of publishing the lowercased token"
got=$(a --region eu-west-1 sesv2 get-email-identity --email-identity example.test | jq_ 'd["VerificationStatus"], d["VerificationInfo"].get("ErrorType")')
expect_eq "lowercased token: still pending, with an error type" "PENDING INVALID_VALUE" "$got"
expect_eq "the first region stays verified" Success "$(status us-east-1)"
show=$("$SESAME" identities show example.test --region eu-west-1 --account newcomer --data "$DATA" 2>&1)
if [[ $show == *"only in case"* ]]; then
	ok "identities show says the value differs only in case"
else
	fail "identities show does not explain the lowercased value: $show"
fi
summary
