# sesame plan for news.example.test: 6 to add, 0 to change, 0 to keep, 0 to remove

variable "zone_id" {
  description = "The Route 53 hosted zone of example.test"
  type        = string
}

# add verification for ops
resource "aws_route53_record" "amazonses_news_example_test_txt" {
  zone_id = var.zone_id
  name    = "_amazonses.news.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4="]
}

# add dkim for ops
resource "aws_route53_record" "r_6hejwjvnljv34qmfxwmlxr4dn2dc6z6c_domainkey_news_example_test_cname" {
  zone_id = var.zone_id
  name    = "6hejwjvnljv34qmfxwmlxr4dn2dc6z6c._domainkey.news.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["6hejwjvnljv34qmfxwmlxr4dn2dc6z6c.dkim.amazonses.com"]
}

# add dkim for ops
resource "aws_route53_record" "scum2nqzlcfoo5m5rh576oxtyjdrxjfz_domainkey_news_example_test_cname" {
  zone_id = var.zone_id
  name    = "scum2nqzlcfoo5m5rh576oxtyjdrxjfz._domainkey.news.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["scum2nqzlcfoo5m5rh576oxtyjdrxjfz.dkim.amazonses.com"]
}

# add dkim for ops
resource "aws_route53_record" "hn2svf5ykixggtiejfwc7pd2sylrmrg4_domainkey_news_example_test_cname" {
  zone_id = var.zone_id
  name    = "hn2svf5ykixggtiejfwc7pd2sylrmrg4._domainkey.news.example.test"
  type    = "CNAME"
  ttl     = 3600
  records = ["hn2svf5ykixggtiejfwc7pd2sylrmrg4.dkim.amazonses.com"]
}

# add mail-from-mx for ops
resource "aws_route53_record" "mail_news_example_test_mx" {
  zone_id = var.zone_id
  name    = "mail.news.example.test"
  type    = "MX"
  ttl     = 3600
  records = ["10 feedback-smtp.us-east-1.amazonses.com"]
}

# add mail-from-spf for ops
resource "aws_route53_record" "mail_news_example_test_txt" {
  zone_id = var.zone_id
  name    = "mail.news.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["v=spf1 include:amazonses.com ~all"]
}
