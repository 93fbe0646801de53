package account

import "github.com/sesame/sesame/internal/seal"

// The sealing of secrets is shared with the DKIM keys (package seal).
const KeyFile = seal.KeyFile

type Sealer = seal.Sealer

var (
	LoadSealer = seal.LoadSealer
	NewSealer  = seal.NewSealer
)
