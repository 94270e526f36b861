//go:build race

package faults_test

// raceEnabled builds the controller binary with the race detector too.
const raceEnabled = true
