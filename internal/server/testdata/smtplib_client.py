"""Python's smtplib against Sesame's SMTP interface, as a Django or Flask
mailer configured for SES SMTP would use it: STARTTLS on the submission
port with the certificate checked, the SES SMTP password, 8BITMIME, and
SMTP_SSL on the implicit-TLS port. Run by TestSMTPPythonSmtplib, which
checks what was stored; prints one "accepted <MessageId>" per message."""
import os
import smtplib
import ssl
import sys

host = "127.0.0.1"
user, password = os.environ["SMTP_USER"], os.environ["SMTP_PASS"]
ctx = ssl.create_default_context(cafile=os.environ["SMTP_CA"])
failed = 0


def check(what, cond, detail=""):
    global failed
    if not cond:
        failed += 1
        print("FAIL", what, detail)


body = "From: App <app@example.com>\r\nTo: success@simulator.amazonses.com\r\nSubject: smtplib\r\n" \
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" \
       "Grüße aus smtplib.\r\n"

with smtplib.SMTP(host, int(os.environ["SMTP_PORT"]), timeout=30) as s:
    s.ehlo()
    check("no AUTH before STARTTLS", not s.has_extn("auth"), s.esmtp_features)
    s.starttls(context=ctx)
    s.ehlo()
    try:
        s.login(user, "B" + password[1:-4] + "AAAA")
        check("wrong password refused", False)
    except smtplib.SMTPAuthenticationError as e:
        check("wrong password: SES's 535", e.smtp_code == 535 and e.smtp_error == b"Authentication Credentials Invalid", e)
    s.login(user, password)
    code, msg = s.mail("app@example.com", ["BODY=8BITMIME"])
    check("MAIL FROM with BODY=8BITMIME", code == 250, msg)
    code, msg = s.rcpt("success@simulator.amazonses.com")
    check("RCPT TO", code == 250, msg)
    code, msg = s.data(body.encode("utf-8"))
    check("DATA: 250 Ok <MessageId>", code == 250 and msg.startswith(b"Ok "), (code, msg))
    print("accepted", msg.decode()[3:])
    s.rset()
    # smtplib asks for SMTPUTF8 only when offered; SES offers it not.
    check("SMTPUTF8 not offered", not s.has_extn("smtputf8"), s.esmtp_features)
    code, msg = s.docmd("MAIL", "FROM:<app@example.com> SMTPUTF8")
    check("SMTPUTF8 refused, as SES refuses it", code == 504, (code, msg))
    s.rset()
    try:
        s.sendmail("nobody@unverified.example", ["success@simulator.amazonses.com"], b"From: nobody@unverified.example\r\nSubject: x\r\n\r\nx\r\n")
        check("unverified sender refused", False)
    except smtplib.SMTPDataError as e:
        check("unverified sender: SES's 554", e.smtp_code == 554 and b"Email address is not verified." in e.smtp_error, e)

with smtplib.SMTP_SSL(host, int(os.environ["SMTPS_PORT"]), context=ctx, timeout=30) as s:
    s.login(user, password)
    s.ehlo()
    code, msg = s.mail("app@example.com")
    s.rcpt("success@simulator.amazonses.com")
    code, msg = s.data(b"From: app@example.com\r\nTo: success@simulator.amazonses.com\r\nSubject: smtps\r\n\r\nover implicit TLS\r\n")
    check("SMTP_SSL: 250 Ok <MessageId>", code == 250 and msg.startswith(b"Ok "), (code, msg))
    print("accepted", msg.decode()[3:])

sys.exit(1 if failed else 0)
