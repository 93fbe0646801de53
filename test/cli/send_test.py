"""Sending through boto3 against a running Sesame whose account has left the
sandbox and has app@example.com verified (send.sh arranges it), then reading
the mail back from /_aws/ses as LocalStack's users do, but signed.

Usage: SESAME_URL=... ACCESS_KEY=... SECRET_KEY=... python3 send_test.py
"""
import json
import os
import sys
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions

URL = os.environ["SESAME_URL"]
KEY, SECRET = os.environ["ACCESS_KEY"], os.environ["SECRET_KEY"]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


ses = boto3.client("ses", region_name="us-east-1", endpoint_url=URL, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                   config=botocore.config.Config(retries={"max_attempts": 1}))


def retro(query=""):
    """GET /_aws/ses, signed with botocore's SigV4 signer."""
    req = botocore.awsrequest.AWSRequest(method="GET", url=URL + "/_aws/ses" + query)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY, SECRET), "ses", "us-east-1").add_auth(req)
    with urllib.request.urlopen(urllib.request.Request(req.url, headers=dict(req.headers))) as r:
        return json.load(r)["messages"]


sent = ses.send_email(Source="app@example.com", Destination={"ToAddresses": ["to@example.org"]},
                      Message={"Subject": {"Data": "boto3"}, "Body": {"Text": {"Data": "hello"}, "Html": {"Data": "<b>hello</b>"}}})
raw = ses.send_raw_email(RawMessage={"Data": b"From: app@example.com\r\nTo: raw@example.org\r\nSubject: raw\r\n\r\nbody\r\n"})
ses.create_template(Template={"TemplateName": "hi", "SubjectPart": "Hi {{name}}", "TextPart": "Dear {{name}}"})
tpl = ses.send_templated_email(Source="app@example.com", Destination={"ToAddresses": ["t@example.org"]},
                               Template="hi", TemplateData='{"name": "Ana"}')
r = ses.test_render_template(TemplateName="hi", TemplateData='{"name": "Ana"}')["RenderedTemplate"]
check("test_render_template", "Subject: Hi Ana" in r and "Dear Ana" in r, r)

msgs = {m["Id"]: m for m in retro()}
m = msgs.get(sent["MessageId"], {})
check("send_email in /_aws/ses", m.get("Subject") == "boto3" and m.get("Body") == {"text_part": "hello", "html_part": "<b>hello</b>"}
      and m.get("Destination", {}).get("ToAddresses") == ["to@example.org"], m)
m = msgs.get(raw["MessageId"], {})
check("send_raw_email in /_aws/ses", "Subject: raw" in m.get("RawData", ""), m)
m = msgs.get(tpl["MessageId"], {})
check("send_templated_email in /_aws/ses", m.get("Template") == "hi" and m.get("TemplateData") == '{"name": "Ana"}', m)
check("?id= filter", [x["Id"] for x in retro("?id=" + sent["MessageId"])] == [sent["MessageId"]])

try:
    ses.send_email(Source="eve@evil.example", Destination={"ToAddresses": ["to@example.org"]},
                   Message={"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}})
    check("unverified sender refused", False)
except botocore.exceptions.ClientError as e:
    check("unverified sender refused", e.response["Error"]["Code"] == "MessageRejected", e.response["Error"])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
