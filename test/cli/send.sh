#!/usr/bin/env bash
# Sending through the aws CLI and boto3 against a real server with no SMTP
# relay: an address is verified through its link in the local outbox, the
# account leaves the sandbox with `sesame accounts sending`, and the mail
# sent is read back from /_aws/ses as LocalStack's users read it (signed).
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
. ./lib.sh
start_sesame

read -r AK SK ACCT < <(new_account sender)
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
a() { aws --endpoint-url "$URL" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

send() { a ses send-email --from "$1" --destination "ToAddresses=$2" --message 'Subject={Data=Hi},Body={Text={Data=Hello}}'; }
expect_error "unverified sender refused" MessageRejected send app@example.com success@simulator.amazonses.com
out=$(send app@example.com success@simulator.amazonses.com 2>&1)
grep -q "Email address is not verified. The following identities failed the check in region US-EAST-1: app@example.com" <<<"$out" &&
	ok "SES's words" || fail "SES's words: $out"

a ses verify-email-identity --email-address app@example.com >/dev/null
L=$("$SESAME" outbox --data "$DATA" --to app@example.com --limit 1 --output json | jq_ 'd["Link"]')
curl -s -o /dev/null "$L"
id=$(send app@example.com success@simulator.amazonses.com | jq_ 'd["MessageId"]')
[[ $id =~ ^[0-9a-f]{16}-[0-9a-f-]{36}-000000$ ]] && ok "MessageId in SES's form" || fail "MessageId '$id'"
sleep 1 # the sandbox's rate is 1 a second
expect_error "sandbox: unverified recipient refused" MessageRejected send app@example.com someone@example.org
expect_eq "sandbox quota" "200.0 1.0" "$(a ses get-send-quota | jq_ 'd["Max24HourSend"], d["MaxSendRate"]')"

"$SESAME" accounts sending sender --data "$DATA" --region us-east-1 --production >/dev/null
expect_eq "production access" "True" "$(a sesv2 get-account | jq_ 'd["ProductionAccessEnabled"]')"
send app@example.com someone@example.org >/dev/null && ok "production: any recipient" || fail "production send"

SESAME_URL=$URL ACCESS_KEY=$AK SECRET_KEY=$SK python3 send_test.py || failed=$((failed + 1))
got=$("$SESAME" outbox --data "$DATA" --sent --to someone@example.org --output json | jq_ 'd["Status"], d["From"]')
expect_eq "sesame outbox --sent" "local app@example.com" "$got"

# Sending authorization: a second account sends from app@example.com once
# its owner's policy allows it, and not before or after.
read -r AK2 SK2 ACCT2 < <(new_account delegate)
"$SESAME" accounts sending delegate --data "$DATA" --region us-east-1 --production >/dev/null
arn="arn:aws:ses:us-east-1:$ACCT:identity/app@example.com"
d() { AWS_ACCESS_KEY_ID=$AK2 AWS_SECRET_ACCESS_KEY=$SK2 a "$@"; }
dsend() { d ses send-email --from app@example.com --source-arn "$arn" --destination ToAddresses=someone@example.org --message 'Subject={Data=Hi},Body={Text={Data=Hello}}'; }
expect_error "delegate without a policy refused" AccessDenied dsend
a ses put-identity-policy --identity app@example.com --policy-name delegate \
	--policy "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$ACCT2:root\"},\"Action\":\"ses:SendEmail\",\"Resource\":\"$arn\"}]}" >/dev/null
dsend >/dev/null && ok "delegate allowed by the policy" || fail "delegate send with a policy"
a ses delete-identity-policy --identity app@example.com --policy-name delegate >/dev/null
expect_error "delegate refused once the policy is deleted" AccessDenied dsend

n=$(curl -s --aws-sigv4 "aws:amz:us-east-1:ses" --user "$AK:$SK" "$URL/_aws/ses?email=app@example.com" | jq_ 'len(d["messages"])')
[ "$n" -ge 2 ] && ok "/_aws/ses through curl --aws-sigv4 ($n messages)" || fail "/_aws/ses: $n messages"
expect_eq "/_aws/ses unsigned refused" 403 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/_aws/ses")"
summary
