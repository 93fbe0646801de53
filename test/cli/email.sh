#!/usr/bin/env bash
# Email address verification through the aws CLI against a real server with
# no SMTP relay: the verification email lands in the local outbox, its link
# is read with `sesame outbox`, opened with curl, and the address is
# verified. Then custom verification templates and the sending limits.
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
. ./lib.sh
start_sesame

read -r AK SK ACCT < <(new_account alpha)
# No retries: a Throttling error must surface at once.
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
a() { aws --endpoint-url "$URL" "$@"; }
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# link ADDRESS: the link of the newest message to ADDRESS, from the outbox.
link() { "$SESAME" outbox --data "$DATA" --to "$1" --limit 1 --output json | jq_ 'd["Link"]'; } # newest first, one a line
status() { a ses get-identity-verification-attributes --identities "$1" | jq_ "d['VerificationAttributes']['$1']['VerificationStatus']"; }
# http URL: "<status code> <redirect URL>"
http() { curl -s -o "$DATA/page.html" -w '%{http_code} %{redirect_url}' "$1"; }

# The whole path: verify, the message arrives, the link is opened.
a ses verify-email-identity --email-address user@example.com >/dev/null
expect_eq "pending before the click" Pending "$(status user@example.com)"
L=$(link user@example.com)
[[ $L == "$URL/verify?token="* ]] && ok "link in the outbox" || fail "link in the outbox: '$L'"
grep -q "$L" "$DATA/stderr" && ok "link in the log" || fail "link not logged"
expect_eq "opening the link" "200 " "$(http "$L")"
grep -q "Email address verified" "$DATA/page.html" && ok "confirmation page" || fail "confirmation page: $(cat "$DATA/page.html")"
expect_eq "verified after the click" Success "$(status user@example.com)"
expect_eq "a used link does not work again" "410 " "$(http "$L")"
grep -q "already used" "$DATA/page.html" && ok "used-link page" || fail "used-link page"

# Asking again sends a new link and voids the old one (v2 this time).
a sesv2 create-email-identity --email-identity second@example.com >/dev/null
OLD=$(link second@example.com)
a ses verify-email-identity --email-address second@example.com >/dev/null
NEW=$(link second@example.com)
[ "$OLD" != "$NEW" ] && ok "a new link" || fail "the same link twice"
expect_eq "the old link is void" "410 " "$(http "$OLD")"
expect_eq "the new link works" "200 " "$(http "$NEW")"
got=$(a sesv2 get-email-identity --email-identity second@example.com | jq_ 'd["VerificationStatus"], d["VerifiedForSendingStatus"]')
expect_eq "sesv2 view" "SUCCESS True" "$got"
# Change the last character (to one it is not), so the signature fails.
last=${NEW: -1}
[ "$last" = x ] && swap=y || swap=x
expect_eq "a token that was tampered with" "400 " "$(http "${NEW%?}$swap")"

# The outbox, as text and in a browser.
# (Outputs are read whole: grep -q closing the pipe early would fail the writer under pipefail.)
out=$("$SESAME" outbox --data "$DATA")
grep -q "second@example.com" <<<"$out" && ok "sesame outbox" || fail "sesame outbox"
# /outbox shows no one every account's mail: it sends to the console's outbox, behind a sign-in.
page=$(curl -sS -L "$URL/outbox")
grep -q "user@example.com" <<<"$page" && fail "/outbox shows mail without a sign-in" || ok "/outbox shows nothing without a sign-in"
grep -q 'action="/console/signin"' <<<"$page" && ok "/outbox leads to the console's sign-in" || fail "/outbox does not lead to the sign-in: $page"

# Custom verification templates.
tmpl() {
	a ses create-custom-verification-email-template --template-name "$1" --from-email-address "$2" \
		--template-subject "Please confirm" --template-content '<html><body><h1>Welcome</h1></body></html>' \
		--success-redirection-url https://app.example.com/ok --failure-redirection-url https://app.example.com/ko
}
expect_error "sender not verified" FromEmailAddressNotVerified tmpl welcome nobody@example.com
tmpl welcome user@example.com && ok "create template" || fail "create template"
expect_error "template exists" CustomVerificationEmailTemplateAlreadyExists tmpl welcome user@example.com
expect_error "a link in the content" CustomVerificationEmailInvalidContent a ses create-custom-verification-email-template \
	--template-name bad --from-email-address user@example.com --template-subject s --template-content '<a href="x">x</a>' \
	--success-redirection-url https://a.example/ok --failure-redirection-url https://a.example/ko
got=$(a ses list-custom-verification-email-templates | jq_ '" ".join(t["TemplateName"] for t in d["CustomVerificationEmailTemplates"])')
expect_eq "list templates" welcome "$got"
a ses update-custom-verification-email-template --template-name welcome --template-subject "Confirm, please" >/dev/null
got=$(a sesv2 get-custom-verification-email-template --template-name welcome | jq_ 'd["TemplateSubject"], d["FromEmailAddress"]')
expect_eq "update, read with sesv2" "Confirm, please user@example.com" "$got"
expect_error "unknown template" CustomVerificationEmailTemplateDoesNotExist a ses get-custom-verification-email-template --template-name nope
expect_error "unknown template (v2)" NotFoundException a sesv2 get-custom-verification-email-template --template-name nope

MID=$(a ses send-custom-verification-email --email-address custom@example.com --template-name welcome | jq_ 'd["MessageId"]')
[ -n "$MID" ] && ok "send-custom-verification-email" || fail "no MessageId"
expect_eq "identity before the click" Pending "$(status custom@example.com)"
expect_eq "custom link redirects to success" "303 https://app.example.com/ok" "$(http "$(link custom@example.com)")"
expect_eq "verified by the custom link" Success "$(status custom@example.com)"
expect_eq "reused custom link redirects to failure" "303 https://app.example.com/ko" "$(http "$(link custom@example.com)")"
out=$("$SESAME" outbox --data "$DATA")
grep -q "$MID" <<<"$out" && ok "sesame outbox lists message IDs" || fail "no message ID in sesame outbox: $out"
"$SESAME" outbox --limit 0 --data "$DATA" >/dev/null 2>&1
expect_eq "sesame outbox --limit 0 is a usage error" 2 "$?"
msg=$("$SESAME" outbox show "$MID" --data "$DATA")
grep -q "Welcome" <<<"$msg" && ok "sesame outbox show" || fail "sesame outbox show"
a sesv2 delete-custom-verification-email-template --template-name welcome >/dev/null
expect_error "deleted template" NotFoundException a sesv2 delete-custom-verification-email-template --template-name welcome

# At most 5 verification emails per address per hour.
for i in 1 2 3 4 5; do a ses verify-email-identity --email-address busy@example.com >/dev/null || fail "mail $i"; done
expect_error "sixth mail within the hour" Throttling a ses verify-email-identity --email-address busy@example.com
tmpl again user@example.com >/dev/null
expect_error "sixth mail within the hour (v2)" TooManyRequestsException a sesv2 send-custom-verification-email \
	--email-address busy@example.com --template-name again

summary
