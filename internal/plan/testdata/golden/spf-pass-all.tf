# sesame plan for example.test: 2 to add, 1 to change, 1 to keep, 0 to remove

variable "zone_id" {
  description = "The Route 53 hosted zone of example.test"
  type        = string
}

# add verification for ops
resource "aws_route53_record" "amazonses_example_test_txt" {
  zone_id = var.zone_id
  name    = "_amazonses.example.test"
  type    = "TXT"
  ttl     = 3600
  records = ["QOfgFXU/ZSvHTm8Agxq581O1+2rrLJ9fv6qhqTjsYT4="]
}

# keep dmarc
resource "aws_route53_record" "dmarc_example_test_txt" {
  zone_id = var.zone_id
  name    = "_dmarc.example.test"
  type    = "TXT"
  ttl     = 300
  records = ["v=DMARC1; p=none"]

  allow_overwrite = true
}

# add mail-from-mx for ops
resource "aws_route53_record" "mail_example_test_mx" {
  zone_id = var.zone_id
  name    = "mail.example.test"
  type    = "MX"
  ttl     = 3600
  records = ["10 feedback-smtp.us-east-1.amazonses.com"]
}

# change mail-from-spf for ops
resource "aws_route53_record" "mail_example_test_txt" {
  zone_id = var.zone_id
  name    = "mail.example.test"
  type    = "TXT"
  ttl     = 300
  records = ["v=spf1 include:amazonses.com +all"]

  allow_overwrite = true
}
