# sesame plan for example.test: 6 to add, 1 to change, 3 to keep, 0 to remove

variable "zone_id" {
  description = "The Route 53 hosted zone of example.test"
  type        = string
}

# change verification for ops, marketing
resource "aws_route53_record" "amazonses_example_test_txt" {
  zone_id = var.zone_id
  name    = "_amazonses.example.test."
  type    = "TXT"
  ttl     = 300
  records = ["QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4=", "NJxE6HtWzaFUpVqtiMQwU7BlG0R8o1R1OttIAW56880="]

  allow_overwrite = true
}

# keep dkim for ops
resource "aws_route53_record" "r_6hejwjvnljv34qmfxwmlxr4dn2dc6z6c_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "6hejwjvnljv34qmfxwmlxr4dn2dc6z6c._domainkey.example.test."
  type    = "CNAME"
  ttl     = 300
  records = ["6hejwjvnljv34qmfxwmlxr4dn2dc6z6c.dkim.amazonses.com."]

  allow_overwrite = true
}

# keep dkim for ops
resource "aws_route53_record" "scum2nqzlcfoo5m5rh576oxtyjdrxjfz_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "scum2nqzlcfoo5m5rh576oxtyjdrxjfz._domainkey.example.test."
  type    = "CNAME"
  ttl     = 300
  records = ["scum2nqzlcfoo5m5rh576oxtyjdrxjfz.dkim.amazonses.com."]

  allow_overwrite = true
}

# keep dkim for ops
resource "aws_route53_record" "hn2svf5ykixggtiejfwc7pd2sylrmrg4_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "hn2svf5ykixggtiejfwc7pd2sylrmrg4._domainkey.example.test."
  type    = "CNAME"
  ttl     = 300
  records = ["hn2svf5ykixggtiejfwc7pd2sylrmrg4.dkim.amazonses.com."]

  allow_overwrite = true
}

# add dkim for marketing
resource "aws_route53_record" "xan4xnsxvk6bntrjgkk5z4h3nagevaor_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "xan4xnsxvk6bntrjgkk5z4h3nagevaor._domainkey.example.test."
  type    = "CNAME"
  ttl     = 3600
  records = ["xan4xnsxvk6bntrjgkk5z4h3nagevaor.dkim.amazonses.com."]
}

# add dkim for marketing
resource "aws_route53_record" "b5gvrvfdakbtm3ocsmhyu4qeak6kllur_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "b5gvrvfdakbtm3ocsmhyu4qeak6kllur._domainkey.example.test."
  type    = "CNAME"
  ttl     = 3600
  records = ["b5gvrvfdakbtm3ocsmhyu4qeak6kllur.dkim.amazonses.com."]
}

# add dkim for marketing
resource "aws_route53_record" "uydv7p5ndi7ojx5lweliqslzv6ccd4ob_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "uydv7p5ndi7ojx5lweliqslzv6ccd4ob._domainkey.example.test."
  type    = "CNAME"
  ttl     = 3600
  records = ["uydv7p5ndi7ojx5lweliqslzv6ccd4ob.dkim.amazonses.com."]
}

# add dmarc for all instances
resource "aws_route53_record" "dmarc_example_test_txt" {
  zone_id = var.zone_id
  name    = "_dmarc.example.test."
  type    = "TXT"
  ttl     = 3600
  records = ["v=DMARC1; p=none"]
}

# add mail-from-mx for ops, marketing
resource "aws_route53_record" "mail_example_test_mx" {
  zone_id = var.zone_id
  name    = "mail.example.test."
  type    = "MX"
  ttl     = 3600
  records = ["10 feedback-smtp.us-east-1.amazonses.com."]
}

# add mail-from-spf for ops, marketing
resource "aws_route53_record" "mail_example_test_txt" {
  zone_id = var.zone_id
  name    = "mail.example.test."
  type    = "TXT"
  ttl     = 3600
  records = ["v=spf1 include:amazonses.com ~all"]
}
