#!/usr/bin/env bash
# Terraform's AWS provider against a real server: the SES identity
# resources of terraform/main.tf apply, plan with no changes, and destroy.
# Needs terraform and a local mirror of hashicorp/aws (TF_PLUGIN_DIR,
# default /opt/tf-plugins). Neither comes from a registry the test set-up
# can install from, so where the machine has none the script says so and
# skips, in CI too; where it has them, it runs.
set -uo pipefail
cd "$(dirname "$0")"
SESAME=${SESAME:-../../sesame}
PLUGINS=${TF_PLUGIN_DIR:-/opt/tf-plugins}
if ! command -v terraform >/dev/null || [ ! -d "$PLUGINS/registry.terraform.io/hashicorp/aws" ]; then
	echo "SKIP terraform.sh (not installable by scripts/install-test-deps.sh): terraform or $PLUGINS/registry.terraform.io/hashicorp/aws is missing"
	exit 0
fi
. ./lib.sh
start_sesame
read -r AK SK ACCT < <(new_account terraform)
WORK=$(mktemp -d)
cp terraform/main.tf "$WORK/"
python3 terraform/sts.py "$ACCT" "$WORK/sts.port" &
STS_PID=$!
trap 'kill $STS_PID $SESAME_PID 2>/dev/null; wait $SESAME_PID 2>/dev/null; rm -rf "$DATA" "$WORK"' EXIT
for _ in $(seq 50); do [ -s "$WORK/sts.port" ] && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK TF_IN_AUTOMATION=1 TF_INPUT=0
export TF_VAR_endpoint=$URL TF_VAR_sts=http://127.0.0.1:$(cat "$WORK/sts.port")
tf() { terraform -chdir="$WORK" "$@" -no-color >"$WORK/last.log" 2>&1; }
show() { grep -v -e 'CLI configuration' -e '.terraformrc' -e '^[│╷╵ ]*$' "$WORK/last.log" | tail -${1:-30}; }

if tf init -plugin-dir="$PLUGINS"; then ok "terraform init"; else fail "terraform init: $(show)"; fi
if tf apply -auto-approve; then ok "terraform apply"; else fail "terraform apply: $(show 60)"; fi
tf plan -detailed-exitcode
case $? in
0) ok "terraform plan: no changes" ;;
2) fail "terraform plan wants changes: $(grep -E '^ *[~+-] |must be replaced|update in-place' "$WORK/last.log" | head -20)" ;;
*) fail "terraform plan: $(show)" ;;
esac
tags=$(AWS_PAGER="" aws --region us-east-1 --endpoint-url "$URL" sesv2 list-tags-for-resource \
	--resource-arn "arn:aws:ses:us-east-1:$ACCT:identity/v2.tf.example" --output json |
	python3 -c 'import json,sys; print(sorted((t["Key"], t["Value"]) for t in json.load(sys.stdin)["Tags"]))')
expect_eq "tags of the sesv2 identity" "[('env', 'test'), ('owner', 'terraform')]" "$tags"
if tf destroy -auto-approve; then ok "terraform destroy"; else fail "terraform destroy: $(show 60)"; fi
left=$(AWS_PAGER="" aws --region us-east-1 --endpoint-url "$URL" ses list-identities --output json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Identities"]))')
expect_eq "nothing left after destroy" 0 "$left"
summary
