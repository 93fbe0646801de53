package sigv4

import "encoding/base64"

// SMTPPassword is SES's SMTP password of a secret access key for one
// region (https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html):
// the SigV4 signing key of the date "11111111", the region and "ses",
// HMAC-SHA256 of "SendRawEmail" under it, the version byte 0x04 in front,
// base64. So every password is 44 characters and starts with "B", and an
// existing derivation (Terraform's ses_smtp_password_v4, AWS's script)
// gives the same one.
func SMTPPassword(secret, region string) string {
	k := deriveKey(secret, "11111111", region, "ses")
	sig := hmacSHA256(k[:], "SendRawEmail")
	return base64.StdEncoding.EncodeToString(append([]byte{0x04}, sig...))
}
