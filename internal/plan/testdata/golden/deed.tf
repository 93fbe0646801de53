# sesame plan for example.test: 5 to add, 0 to change, 0 to keep, 0 to remove

variable "zone_id" {
  description = "The Route 53 hosted zone of example.test"
  type        = string
}

# add verification for ops, ops@eu-west-1
resource "aws_route53_record" "amazonses_example_test_txt" {
  zone_id = var.zone_id
  name    = "_amazonses.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4=", "b9BnvPL/y1z3Qvk4Oe0GSU0rikTz2rR5OFMztYRjKs0="]
}

# add dkim for ops, ops@eu-west-1
resource "aws_route53_record" "r_6hejwjvnljv34qmfxwmlxr4dn2dc6z6c_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "6hejwjvnljv34qmfxwmlxr4dn2dc6z6c._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["6hejwjvnljv34qmfxwmlxr4dn2dc6z6c.dkim.amazonses.com"]
}

# add dkim for ops, ops@eu-west-1
resource "aws_route53_record" "scum2nqzlcfoo5m5rh576oxtyjdrxjfz_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "scum2nqzlcfoo5m5rh576oxtyjdrxjfz._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["scum2nqzlcfoo5m5rh576oxtyjdrxjfz.dkim.amazonses.com"]
}

# add dkim for ops, ops@eu-west-1
resource "aws_route53_record" "hn2svf5ykixggtiejfwc7pd2sylrmrg4_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "hn2svf5ykixggtiejfwc7pd2sylrmrg4._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["hn2svf5ykixggtiejfwc7pd2sylrmrg4.dkim.amazonses.com"]
}

# add dmarc for all instances
resource "aws_route53_record" "dmarc_example_test_txt" {
  zone_id = var.zone_id
  name    = "_dmarc.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"]
}
