#!/usr/bin/env bash
# The README's walkthrough, through the aws CLI, against a real server:
# two accounts, two regions, the records to publish, errors and revocation.
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
. ./lib.sh
start_sesame

read -r AK1 SK1 ACCT1 < <(new_account alpha)
read -r AK2 SK2 ACCT2 < <(new_account beta)
export AWS_PAGER="" AWS_DEFAULT_OUTPUT=json
as() { # as ACCESS SECRET REGION aws-args...
	local ak=$1 sk=$2 region=$3
	shift 3
	AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk aws --region "$region" --endpoint-url "$URL" "$@"
}
jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# One domain, verified by two accounts and two regions: three identities.
T1=$(as "$AK1" "$SK1" us-east-1 ses verify-domain-identity --domain Example.COM. | jq_ 'd["VerificationToken"]')
T2=$(as "$AK1" "$SK1" eu-west-1 ses verify-domain-identity --domain example.com | jq_ 'd["VerificationToken"]')
T3=$(as "$AK2" "$SK2" us-east-1 ses verify-domain-identity --domain example.com | jq_ 'd["VerificationToken"]')
[[ $T1 =~ ^[A-Za-z0-9+/]{43}=$ ]] && ok "token format" || fail "token format: $T1"
[ "$T1" != "$T2" ] && [ "$T1" != "$T3" ] && [ "$T2" != "$T3" ] && ok "tokens differ per account and region" || fail "tokens repeat: $T1 $T2 $T3"
T1b=$(as "$AK1" "$SK1" us-east-1 ses verify-domain-identity --domain example.com | jq_ 'd["VerificationToken"]')
expect_eq "token stable on a second call" "$T1" "$T1b"

got=$(as "$AK1" "$SK1" us-east-1 ses get-identity-verification-attributes --identities example.com unknown.example |
	jq_ 'd["VerificationAttributes"]["example.com"]["VerificationStatus"], d["VerificationAttributes"]["example.com"]["VerificationToken"], len(d["VerificationAttributes"])')
expect_eq "pending with its token; unknown left out" "Pending $T1 1" "$got"

DK=$(as "$AK1" "$SK1" us-east-1 ses verify-domain-dkim --domain example.com | jq_ '" ".join(d["DkimTokens"])')
[[ $DK =~ ^[a-z2-7]{32}\ [a-z2-7]{32}\ [a-z2-7]{32}$ ]] && ok "three DKIM tokens" || fail "DKIM tokens: $DK"
got=$(as "$AK1" "$SK1" us-east-1 sesv2 get-email-identity --email-identity example.com |
	jq_ 'd["IdentityType"], d["VerificationStatus"], d["DkimAttributes"]["Status"], " ".join(d["DkimAttributes"]["Tokens"])')
expect_eq "sesv2 view of the same identity" "DOMAIN PENDING PENDING $DK" "$got"

as "$AK1" "$SK1" us-east-1 ses set-identity-mail-from-domain --identity example.com --mail-from-domain mail.example.com --behavior-on-mx-failure RejectMessage >/dev/null
got=$(as "$AK1" "$SK1" us-east-1 ses get-identity-mail-from-domain-attributes --identities example.com |
	jq_ 'd["MailFromDomainAttributes"]["example.com"]["MailFromDomain"], d["MailFromDomainAttributes"]["example.com"]["MailFromDomainStatus"], d["MailFromDomainAttributes"]["example.com"]["BehaviorOnMXFailure"]')
expect_eq "MAIL FROM set" "mail.example.com Pending RejectMessage" "$got"

as "$AK1" "$SK1" us-east-1 sesv2 create-email-identity --email-identity user+tag@example.com >/dev/null
got=$(as "$AK1" "$SK1" us-east-1 ses list-identities | jq_ '" ".join(d["Identities"])')
expect_eq "list-identities" "example.com user+tag@example.com" "$got"
got=$(as "$AK1" "$SK1" us-east-1 ses list-identities --max-items 1 | jq_ 'len(d["Identities"]), "NextToken" in d')
expect_eq "paging with --max-items" "1 True" "$got"

# Account isolation.
got=$(as "$AK2" "$SK2" us-east-1 ses list-identities | jq_ '" ".join(d["Identities"])')
expect_eq "beta sees only its own" "example.com" "$got"
expect_error "beta cannot read alpha's address" NotFoundException as "$AK2" "$SK2" us-east-1 sesv2 get-email-identity --email-identity user+tag@example.com
as "$AK2" "$SK2" us-east-1 ses delete-identity --identity user+tag@example.com >/dev/null
got=$(as "$AK1" "$SK1" us-east-1 ses list-identities --identity-type EmailAddress | jq_ '" ".join(d["Identities"])')
expect_eq "beta's delete leaves alpha's identity" "user+tag@example.com" "$got"

# Errors.
expect_error "bad domain" InvalidParameterValue as "$AK1" "$SK1" us-east-1 ses verify-domain-identity --domain 'bad..example.com'
expect_error "wildcard" InvalidParameterValue as "$AK1" "$SK1" us-east-1 ses verify-domain-identity --domain '*.example.com'
expect_error "bad address" InvalidParameterValue as "$AK1" "$SK1" us-east-1 ses verify-email-identity --email-address 'no-at-sign'
expect_error "MAIL FROM outside the domain" InvalidParameterValue as "$AK1" "$SK1" us-east-1 ses set-identity-mail-from-domain --identity example.com --mail-from-domain mail.other.com
expect_error "v2 create twice" AlreadyExistsException as "$AK1" "$SK1" us-east-1 sesv2 create-email-identity --email-identity example.com
expect_error "v2 delete unknown" NotFoundException as "$AK1" "$SK1" us-east-1 sesv2 delete-email-identity --email-identity nothing.example
expect_error "wrong secret" SignatureDoesNotMatch as "$AK1" "wrong$SK1" us-east-1 ses list-identities
expect_error "unknown key" InvalidClientTokenId as AKIAAAAAAAAAAAAAAAAA "$SK1" us-east-1 ses list-identities
expect_error "unverified sender" MessageRejected as "$AK1" "$SK1" us-east-1 ses send-email --from a@unverified.example --destination ToAddresses=b@example.com --message 'Subject={Data=s},Body={Text={Data=b}}'
expect_error "action not served" InvalidAction as "$AK1" "$SK1" us-east-1 ses create-receipt-rule-set --rule-set-name rules

# Notifications, policies, tags and configuration sets (v1 and v2 views of one store).
TOPIC=arn:aws:sns:us-east-1:$ACCT1:feedback
for t in Bounce Complaint; do as "$AK1" "$SK1" us-east-1 ses set-identity-notification-topic --identity example.com --notification-type $t --sns-topic "$TOPIC" >/dev/null; done
as "$AK1" "$SK1" us-east-1 ses set-identity-feedback-forwarding-enabled --identity example.com --no-forwarding-enabled >/dev/null
as "$AK1" "$SK1" us-east-1 ses set-identity-headers-in-notifications-enabled --identity example.com --notification-type Bounce --enabled >/dev/null
got=$(as "$AK1" "$SK1" us-east-1 ses get-identity-notification-attributes --identities example.com |
	jq_ 'd["NotificationAttributes"]["example.com"]["BounceTopic"], d["NotificationAttributes"]["example.com"]["ForwardingEnabled"], d["NotificationAttributes"]["example.com"]["HeadersInBounceNotificationsEnabled"]')
expect_eq "notification attributes" "$TOPIC False True" "$(echo $got | tr -d '(),' | tr -d "'")"
expect_eq "v2 sees forwarding off" False "$(as "$AK1" "$SK1" us-east-1 sesv2 get-email-identity --email-identity example.com | jq_ 'd["FeedbackForwardingStatus"]')"
POLICY='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"'$ACCT2'"},"Action":"ses:SendEmail","Resource":"arn:aws:ses:us-east-1:'$ACCT1':identity/example.com"}]}'
as "$AK1" "$SK1" us-east-1 ses put-identity-policy --identity example.com --policy-name delegate --policy "$POLICY" >/dev/null
expect_eq "list-identity-policies" "['delegate']" "$(as "$AK1" "$SK1" us-east-1 ses list-identity-policies --identity example.com | jq_ 'd["PolicyNames"]')"
expect_eq "v2 get-email-identity-policies" "True" "$(as "$AK1" "$SK1" us-east-1 sesv2 get-email-identity-policies --email-identity example.com | jq_ '"delegate" in d["Policies"]')"
expect_error "policy not JSON" InvalidPolicy as "$AK1" "$SK1" us-east-1 ses put-identity-policy --identity example.com --policy-name bad --policy '{"Version":'
as "$AK1" "$SK1" us-east-1 ses delete-identity-policy --identity example.com --policy-name delegate >/dev/null
expect_error "v2 delete of a deleted policy" NotFoundException as "$AK1" "$SK1" us-east-1 sesv2 delete-email-identity-policy --email-identity example.com --policy-name delegate
as "$AK1" "$SK1" us-east-1 sesv2 create-configuration-set --configuration-set-name cli-set --tags Key=team,Value=ops >/dev/null
expect_eq "list-configuration-sets" "['cli-set']" "$(as "$AK1" "$SK1" us-east-1 sesv2 list-configuration-sets | jq_ 'd["ConfigurationSets"]')"
as "$AK1" "$SK1" us-east-1 sesv2 put-email-identity-configuration-set-attributes --email-identity example.com --configuration-set-name cli-set >/dev/null
expect_eq "default configuration set" cli-set "$(as "$AK1" "$SK1" us-east-1 sesv2 get-email-identity --email-identity example.com | jq_ 'd["ConfigurationSetName"]')"
ARN=arn:aws:ses:us-east-1:$ACCT1:identity/example.com
as "$AK1" "$SK1" us-east-1 sesv2 tag-resource --resource-arn "$ARN" --tags Key=env,Value=prod >/dev/null
expect_eq "list-tags-for-resource" "['env=prod']" "$(as "$AK1" "$SK1" us-east-1 sesv2 list-tags-for-resource --resource-arn "$ARN" | jq_ '[t["Key"]+"="+t["Value"] for t in d["Tags"]]')"
as "$AK1" "$SK1" us-east-1 sesv2 untag-resource --resource-arn "$ARN" --tag-keys env >/dev/null
expect_eq "untag-resource" "[]" "$(as "$AK1" "$SK1" us-east-1 sesv2 list-tags-for-resource --resource-arn "$ARN" | jq_ 'd["Tags"]')"
expect_error "another account's ARN" NotFoundException as "$AK2" "$SK2" us-east-1 sesv2 list-tags-for-resource --resource-arn "$ARN"

# Bring Your Own DKIM: the key as openssl makes it, the selector as the one token; back to Easy DKIM.
openssl genrsa -out "$DATA/byo.pem" 2048 2>/dev/null
BYOKEY=$(openssl rsa -in "$DATA/byo.pem" -outform DER 2>/dev/null | base64 -w0)
got=$(as "$AK1" "$SK1" us-east-1 sesv2 create-email-identity --email-identity byo.example \
	--dkim-signing-attributes "DomainSigningSelector=mail2026,DomainSigningPrivateKey=$BYOKEY" |
	jq_ 'd["DkimAttributes"]["SigningAttributesOrigin"], " ".join(d["DkimAttributes"]["Tokens"]), d["DkimAttributes"]["Status"]')
expect_eq "create-email-identity with your own key" "EXTERNAL mail2026 PENDING" "$got"
got=$(as "$AK1" "$SK1" us-east-1 sesv2 get-email-identity --email-identity byo.example |
	jq_ 'd["DkimAttributes"]["SigningAttributesOrigin"], d["DkimAttributes"]["CurrentSigningKeyLength"]')
expect_eq "BYODKIM in get-email-identity" "EXTERNAL RSA_2048_BIT" "$got"
expect_error "BYODKIM key not base64" BadRequestException as "$AK1" "$SK1" us-east-1 sesv2 put-email-identity-dkim-signing-attributes \
	--email-identity byo.example --signing-attributes-origin EXTERNAL --signing-attributes DomainSigningSelector=s2,DomainSigningPrivateKey=QUJD
expect_error "BYODKIM bad selector" BadRequestException as "$AK1" "$SK1" us-east-1 sesv2 put-email-identity-dkim-signing-attributes \
	--email-identity byo.example --signing-attributes-origin EXTERNAL --signing-attributes "DomainSigningSelector=-s2,DomainSigningPrivateKey=$BYOKEY"
got=$(as "$AK1" "$SK1" us-east-1 sesv2 put-email-identity-dkim-signing-attributes --email-identity byo.example \
	--signing-attributes-origin AWS_SES | jq_ 'len(d["DkimTokens"]), d["DkimStatus"]')
expect_eq "back to Easy DKIM" "3 PENDING" "$got"

# Deterministic Easy DKIM: the eu-west-1 identity replicates us-east-1's tokens.
P=$(as "$AK1" "$SK1" us-east-1 sesv2 create-email-identity --email-identity deed.example | jq_ '" ".join(d["DkimAttributes"]["Tokens"])')
got=$(as "$AK1" "$SK1" eu-west-1 sesv2 create-email-identity --email-identity deed.example \
	--dkim-signing-attributes DomainSigningAttributesOrigin=AWS_SES_US_EAST_1 | jq_ '" ".join(d["DkimAttributes"]["Tokens"])')
expect_eq "a DEED replica has its parent's tokens" "$P" "$got"
expect_eq "the replica's origin" AWS_SES_US_EAST_1 "$(as "$AK1" "$SK1" eu-west-1 sesv2 get-email-identity --email-identity deed.example | jq_ 'd["DkimAttributes"]["SigningAttributesOrigin"]')"
expect_error "DEED without a parent" BadRequestException as "$AK1" "$SK1" eu-west-1 sesv2 create-email-identity --email-identity nodeed.example \
	--dkim-signing-attributes DomainSigningAttributesOrigin=AWS_SES_US_EAST_1

# Revocation while the server runs.
"$SESAME" accounts keys revoke "$AK2" --data "$DATA" >/dev/null
sleep 0.2 # revocation by another process is seen within 0.1 s
expect_error "revoked key" InvalidClientTokenId as "$AK2" "$SK2" us-east-1 ses list-identities

summary
