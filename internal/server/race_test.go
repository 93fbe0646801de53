//go:build race

package server_test

// raceEnabled says the tests run under the race detector, which takes
// several times the memory (its shadow of every byte allocated).
const raceEnabled = true
