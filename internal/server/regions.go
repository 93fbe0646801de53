package server

import "github.com/sesame/sesame/internal/config"

// served is the list of regions served: the operator's, or SES's own.
func served(regions []string) []string {
	if len(regions) == 0 {
		return config.SESRegions
	}
	return regions
}
