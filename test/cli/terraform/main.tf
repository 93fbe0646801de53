# SES identity resources of the AWS provider, applied against Sesame by
# ../terraform.sh: apply, plan with no changes, destroy.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }
variable "sts" { type = string }

provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    ses   = var.endpoint
    sesv2 = var.endpoint
    sts   = var.sts
  }
}

resource "aws_ses_domain_identity" "domain" {
  domain = "tf.example"
}

resource "aws_ses_domain_dkim" "domain" {
  domain = aws_ses_domain_identity.domain.domain
}

resource "aws_ses_domain_mail_from" "domain" {
  domain           = aws_ses_domain_identity.domain.domain
  mail_from_domain = "mail.tf.example"
}

resource "aws_ses_email_identity" "address" {
  email = "someone@tf.example"
}

resource "aws_ses_identity_policy" "domain" {
  identity = aws_ses_domain_identity.domain.arn
  name     = "delegate"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:root" }
      Action    = ["ses:SendEmail", "ses:SendRawEmail"]
      Resource  = aws_ses_domain_identity.domain.arn
    }]
  })
}

resource "aws_sesv2_configuration_set" "default" {
  configuration_set_name = "tf-default"
  tags                   = { team = "ops" }
}

resource "aws_sesv2_email_identity" "v2" {
  email_identity         = "v2.tf.example"
  configuration_set_name = aws_sesv2_configuration_set.default.configuration_set_name
  tags                   = { env = "test", owner = "terraform" }
}

resource "aws_sesv2_email_identity_feedback_attributes" "v2" {
  email_identity           = aws_sesv2_email_identity.v2.email_identity
  email_forwarding_enabled = true
}

resource "aws_sesv2_email_identity_mail_from_attributes" "v2" {
  email_identity         = aws_sesv2_email_identity.v2.email_identity
  mail_from_domain       = "bounce.v2.tf.example"
  behavior_on_mx_failure = "REJECT_MESSAGE"
}

resource "aws_sesv2_email_identity_policy" "v2" {
  email_identity = aws_sesv2_email_identity.v2.email_identity
  policy_name    = "v2-delegate"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "123456789012" }
      Action    = "ses:SendEmail"
      Resource  = aws_sesv2_email_identity.v2.arn
    }]
  })
}

resource "aws_ses_identity_notification_topic" "bounce" {
  identity                 = aws_ses_domain_identity.domain.domain
  notification_type        = "Bounce"
  topic_arn                = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
  include_original_headers = true
}

resource "aws_ses_identity_notification_topic" "complaint" {
  identity          = aws_ses_domain_identity.domain.domain
  notification_type = "Complaint"
  topic_arn         = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
}
