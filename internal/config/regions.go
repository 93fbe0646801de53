package config

// SESRegions are the regions where SES (endpoint prefix "email") has
// endpoints, in every partition: botocore's data/endpoints.json, version
// 1.43.11, partitions aws, aws-us-gov and aws-eusc, service "email". The
// fips-* entries are left out: they are endpoints, not regions, and sign
// with the region of their credentialScope (fips-us-east-1 signs as
// us-east-1). AWS's page is "Amazon Simple Email Service endpoints and
// quotas", https://docs.aws.amazon.com/general/latest/gr/ses.html.
//
// Only these names are accepted in a credential scope, unless the operator
// gives another list (sesame serve --regions, for a subset, or a region
// newer than this list): identities and templates are kept per region, so
// a name shaped like a region but no region of SES's ("zz-fake-9") must
// not become a new place to store them.
var SESRegions = []string{
	"af-south-1",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-5",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1",
	"sa-east-1",
	"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	"us-gov-east-1", "us-gov-west-1",
	"eusc-de-east-1",
}
