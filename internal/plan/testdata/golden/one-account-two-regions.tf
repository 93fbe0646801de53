# sesame plan for example.test: 12 to add, 0 to change, 0 to keep, 0 to remove

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

# add dkim for ops
resource "aws_route53_record" "r_6hejwjvnljv34qmfxwmlxr4dn2dc6z6c_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "6hejwjvnljv34qmfxwmlxr4dn2dc6z6c._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["6hejwjvnljv34qmfxwmlxr4dn2dc6z6c.dkim.amazonses.com"]
}

# add dkim for ops
resource "aws_route53_record" "scum2nqzlcfoo5m5rh576oxtyjdrxjfz_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "scum2nqzlcfoo5m5rh576oxtyjdrxjfz._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["scum2nqzlcfoo5m5rh576oxtyjdrxjfz.dkim.amazonses.com"]
}

# add dkim for ops
resource "aws_route53_record" "hn2svf5ykixggtiejfwc7pd2sylrmrg4_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "hn2svf5ykixggtiejfwc7pd2sylrmrg4._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["hn2svf5ykixggtiejfwc7pd2sylrmrg4.dkim.amazonses.com"]
}

# add dkim for ops@eu-west-1
resource "aws_route53_record" "rd46xiwovp3vhmqt5g5nt65llzbdeg7d_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "rd46xiwovp3vhmqt5g5nt65llzbdeg7d._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["rd46xiwovp3vhmqt5g5nt65llzbdeg7d.dkim.amazonses.com"]
}

# add dkim for ops@eu-west-1
resource "aws_route53_record" "r_76kzv3c6adummq3xwhf7ae3lz5cbje2a_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "76kzv3c6adummq3xwhf7ae3lz5cbje2a._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["76kzv3c6adummq3xwhf7ae3lz5cbje2a.dkim.amazonses.com"]
}

# add dkim for ops@eu-west-1
resource "aws_route53_record" "la44pqtvdde5m3kvtwjqppyw5pde5zph_domainkey_example_test_cname" {
  zone_id = var.zone_id
  name    = "la44pqtvdde5m3kvtwjqppyw5pde5zph._domainkey.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["la44pqtvdde5m3kvtwjqppyw5pde5zph.dkim.amazonses.com"]
}

# add dmarc for all instances
resource "aws_route53_record" "dmarc_example_test_txt" {
  zone_id = var.zone_id
  name    = "_dmarc.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"]
}

# add mail-from-mx for ops
resource "aws_route53_record" "mail_us_east_1_example_test_mx" {
  zone_id = var.zone_id
  name    = "mail-us-east-1.example.test"
  type    = "MX"
  ttl     = 3600
  records = ["10 feedback-smtp.us-east-1.amazonses.com"]
}

# add mail-from-spf for ops
resource "aws_route53_record" "mail_us_east_1_example_test_txt" {
  zone_id = var.zone_id
  name    = "mail-us-east-1.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["v=spf1 include:amazonses.com ~all"]
}

# add mail-from-mx for ops@eu-west-1
resource "aws_route53_record" "mail_eu_west_1_example_test_mx" {
  zone_id = var.zone_id
  name    = "mail-eu-west-1.example.test"
  type    = "MX"
  ttl     = 3600
  records = ["10 feedback-smtp.eu-west-1.amazonses.com"]
}

# add mail-from-spf for ops@eu-west-1
resource "aws_route53_record" "mail_eu_west_1_example_test_txt" {
  zone_id = var.zone_id
  name    = "mail-eu-west-1.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["v=spf1 include:amazonses.com ~all"]
}
