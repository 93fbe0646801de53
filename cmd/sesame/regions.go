package main

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/spf13/pflag"

	"github.com/sesame/sesame/internal/auth/sigv4"
	"github.com/sesame/sesame/internal/config"
	"github.com/sesame/sesame/internal/registry"
)

// regionFlags are serve's --regions and the account-wide caps.
type regionFlags struct {
	regions []string
	caps    registry.Caps
}

func addRegionFlags(fl *pflag.FlagSet, f *regionFlags) {
	fl.StringSliceVar(&f.regions, "regions", nil, "regions served, comma-separated (default: every region where SES has an endpoint); a credential scope with another region is refused")
	fl.IntVar(&f.caps.Identities, "max-account-identities", registry.DefaultAccountIdentities, "most identities of one account in all regions together (SES's 10,000 per region holds too)")
	fl.IntVar(&f.caps.Templates, "max-account-templates", registry.DefaultAccountTemplates, "most custom verification email templates of one account in all regions together (SES's 50 per region holds too)")
}

// validate refuses a region that cannot be one, a region given twice and
// caps below 1.
func (f *regionFlags) validate() error {
	for i, r := range f.regions {
		if !sigv4.ValidRegion(r) {
			return fmt.Errorf("--regions: region %q: want lower-case letters, digits and hyphens, such as us-east-1", r)
		}
		if slices.Contains(f.regions[:i], r) {
			return fmt.Errorf("--regions: region %q is given twice", r)
		}
	}
	if f.caps.Identities < 1 || f.caps.Templates < 1 {
		return fmt.Errorf("--max-account-identities %d, --max-account-templates %d: want at least 1 each", f.caps.Identities, f.caps.Templates)
	}
	return nil
}

// warn logs each region of --regions where SES has no endpoint, with the
// SES region nearest its name: a typo (us-esat-1) would otherwise serve a
// region no SDK signs for, silently. It is still served, since a region
// newer than Sesame's list is a real one.
func (f *regionFlags) warn(log *slog.Logger) {
	for _, r := range f.regions {
		if !config.IsSESRegion(r) {
			log.Warn("--regions names a region where SES has no endpoint; served as given", "region", r, "nearest", config.NearestSESRegion(r))
		}
	}
}
