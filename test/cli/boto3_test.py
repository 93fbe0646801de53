"""The SES API through boto3 (botocore 1.43) against a running Sesame.

Usage: SESAME_URL=... ACCESS_KEY=... SECRET_KEY=... python3 boto3_test.py
"""
import os
import re
import sys

import boto3
import botocore.exceptions

URL = os.environ["SESAME_URL"]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok  ", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def client(service, region, key=None, secret=None):
    return boto3.client(
        service, region_name=region, endpoint_url=URL,
        aws_access_key_id=key or os.environ["ACCESS_KEY"],
        aws_secret_access_key=secret or os.environ["SECRET_KEY"],
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def error_code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


ses = client("ses", "us-west-2")
v2 = client("sesv2", "us-west-2")

tok = ses.verify_domain_identity(Domain="boto.example")["VerificationToken"]
check("verification token format", re.fullmatch(r"[A-Za-z0-9+/]{43}=", tok), tok)
dk = ses.verify_domain_dkim(Domain="boto.example")["DkimTokens"]
check("three DKIM tokens", len(dk) == 3 and all(re.fullmatch(r"[a-z2-7]{32}", t) for t in dk), dk)
attrs = ses.get_identity_verification_attributes(Identities=["boto.example", "none.example"])["VerificationAttributes"]
check("pending, unknown left out", attrs == {"boto.example": {"VerificationStatus": "Pending", "VerificationToken": tok}}, attrs)
dkim = ses.get_identity_dkim_attributes(Identities=["boto.example"])["DkimAttributes"]["boto.example"]
check("DKIM attributes", dkim == {"DkimEnabled": True, "DkimVerificationStatus": "Pending", "DkimTokens": dk}, dkim)

ses.verify_email_identity(EmailAddress="Someone@Boto.Example")
ident = v2.get_email_identity(EmailIdentity="Someone@boto.example")
check("address: case kept in the local part, domain folded", ident["IdentityType"] == "EMAIL_ADDRESS" and ident["VerificationStatus"] == "PENDING", ident)
dk_addr = ses.get_identity_dkim_attributes(Identities=["Someone@boto.example"])["DkimAttributes"]["Someone@boto.example"]
check("an address reports its own DKIM, as the model's example", dk_addr == {"DkimEnabled": False, "DkimVerificationStatus": "NotStarted"}, dk_addr)

pages = list(ses.get_paginator("list_identities").paginate(PaginationConfig={"PageSize": 1}))
names = [i for p in pages for i in p["Identities"]]
check("list_identities paginator", names == ["Someone@boto.example", "boto.example"] and len(pages) == 2, names)
# botocore has no sesv2 paginator for this operation: page by hand.
v2names, kw = [], {"PageSize": 1}
while True:
    page = v2.list_email_identities(**kw)
    v2names += [i["IdentityName"] for i in page["EmailIdentities"]]
    if "NextToken" not in page:
        break
    kw["NextToken"] = page["NextToken"]
check("list_email_identities pages", v2names == names, v2names)

v2.put_email_identity_mail_from_attributes(EmailIdentity="boto.example", MailFromDomain="bounce.boto.example", BehaviorOnMxFailure="REJECT_MESSAGE")
mf = ses.get_identity_mail_from_domain_attributes(Identities=["boto.example"])["MailFromDomainAttributes"]["boto.example"]
check("MAIL FROM through v2, read through v1", mf == {"MailFromDomain": "bounce.boto.example", "MailFromDomainStatus": "Pending", "BehaviorOnMXFailure": "RejectMessage"}, mf)

check("bad domain", error_code(ses.verify_domain_identity, Domain="-bad.example") == ("InvalidParameterValue", 400))
check("more than 100 identities", error_code(ses.get_identity_verification_attributes, Identities=[f"d{i}.example" for i in range(101)])[0] == "InvalidParameterValue")
check("MaxItems out of range", error_code(ses.list_identities, MaxItems=1001)[0] == "InvalidParameterValue")
check("v2 unknown identity", error_code(v2.get_email_identity, EmailIdentity="none.example") == ("NotFoundException", 404))
check("v2 BYODKIM refused", error_code(v2.create_email_identity, EmailIdentity="byo.example",
      DkimSigningAttributes={"DomainSigningSelector": "s1", "DomainSigningPrivateKey": "QUJD"})[0] == "BadRequestException")
ses.verify_domain_identity(Domain="legacy.example")
signing = v2.put_email_identity_dkim_signing_attributes(EmailIdentity="legacy.example", SigningAttributesOrigin="AWS_SES")
check("Easy DKIM set up through v2 on a v1 domain", signing["DkimStatus"] == "PENDING" and len(signing["DkimTokens"]) == 3, signing)
check("BYODKIM on an existing identity refused", error_code(v2.put_email_identity_dkim_signing_attributes, EmailIdentity="legacy.example",
      SigningAttributesOrigin="EXTERNAL", SigningAttributes={"DomainSigningSelector": "s1", "DomainSigningPrivateKey": "QUJD"}) == ("BadRequestException", 400))
ses.delete_identity(Identity="legacy.example")
bad_region = client("ses", "US-WEST-2")
check("region not a region name", error_code(bad_region.list_identities) == ("SignatureDoesNotMatch", 403))
made_up = client("sesv2", "zz-fake-9")
check("region where SES has no endpoint", error_code(made_up.list_email_identities) == ("SignatureDoesNotMatch", 403))
bad = client("ses", "us-west-2", secret="x" * 40)
check("wrong secret", error_code(bad.list_identities) == ("SignatureDoesNotMatch", 403))

ses.delete_identity(Identity="boto.example")
ses.delete_identity(Identity="boto.example")  # v1 deletes are idempotent
check("deleted", ses.list_identities(IdentityType="Domain")["Identities"] == [])
check("v2 delete of a deleted identity", error_code(v2.delete_email_identity, EmailIdentity="boto.example")[0] == "NotFoundException")

# Notifications, policies, configuration sets and tags (botocore's parsers).
ses.verify_domain_identity(Domain="settings.example")
attrs = ses.get_identity_notification_attributes(Identities=["settings.example"])["NotificationAttributes"]["settings.example"]
check("notification attributes of a new identity", attrs["ForwardingEnabled"] is True and attrs["BounceTopic"] == "", attrs)
v2.create_email_identity(EmailIdentity="v2settings.example")
check("policy not JSON", error_code(ses.put_identity_policy, Identity="settings.example", PolicyName="p", Policy="{") == ("InvalidPolicy", 400))
check("list policies of a new identity", ses.list_identity_policies(Identity="settings.example")["PolicyNames"] == [])
v2.create_configuration_set(ConfigurationSetName="boto-set", Tags=[{"Key": "a", "Value": "1"}])
check("list configuration sets", v2.list_configuration_sets()["ConfigurationSets"] == ["boto-set"])
check("get configuration set", v2.get_configuration_set(ConfigurationSetName="boto-set")["Tags"] == [{"Key": "a", "Value": "1"}])
v2.put_email_identity_configuration_set_attributes(EmailIdentity="v2settings.example", ConfigurationSetName="boto-set")
check("default configuration set", v2.get_email_identity(EmailIdentity="v2settings.example")["ConfigurationSetName"] == "boto-set")
check("unknown configuration set", error_code(v2.put_email_identity_configuration_set_attributes, EmailIdentity="v2settings.example", ConfigurationSetName="nope") == ("NotFoundException", 404))
v2.delete_configuration_set(ConfigurationSetName="boto-set")
v2.delete_email_identity(EmailIdentity="v2settings.example")
ses.delete_identity(Identity="settings.example")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
