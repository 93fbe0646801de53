package config

import (
	"strings"
	"testing"
)

func TestNearestSESRegion(t *testing.T) {
	for r, want := range map[string]string{
		"us-esat-1":      "us-east-1", // two letters swapped
		"us-east-1":      "us-east-1",
		"useast1":        "us-east-1",
		"eu-west1":       "eu-west-1",
		"eu-wset-3":      "eu-west-3",
		"ap-southeast-9": "ap-southeast-1",
		"us-gov-east-2":  "us-gov-east-1",
		"eusc-de-east-2": "eusc-de-east-1",
		"af-south-2":     "af-south-1",
	} {
		if got := NearestSESRegion(r); got != want {
			t.Errorf("NearestSESRegion(%q) = %q, want %q", r, got, want)
		}
	}
	if got := NearestSESRegion(strings.Repeat("x", 10000)); !IsSESRegion(got) {
		t.Errorf("a long name: %q", got)
	}
	if !IsSESRegion("eu-west-1") || IsSESRegion("us-esat-1") || IsSESRegion("fips-us-east-1") {
		t.Error("IsSESRegion")
	}
}
