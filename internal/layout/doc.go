// Package layout holds the import rules of the tree as a test
// (layout_test.go), after tailscale's tstest/deptest: arrows run one way,
// from the protocols and listeners down to the model. It has no code.
package layout
