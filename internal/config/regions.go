package config

import "slices"

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

// IsSESRegion says whether r is one of SESRegions.
func IsSESRegion(r string) bool { return slices.Contains(SESRegions, r) }

// NearestSESRegion is the SES region r most likely meant: the one fewest
// edits away (insertions, deletions, substitutions and swaps of two
// neighbours, so us-esat-1 is one from us-east-1), the first in
// SESRegions on a tie.
func NearestSESRegion(r string) string {
	best, bestD := "", -1
	for _, s := range SESRegions {
		if d := editDistance(r, s); bestD < 0 || d < bestD {
			best, bestD = s, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return max(len(a), len(b)) // a region name has at most 63 octets
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
