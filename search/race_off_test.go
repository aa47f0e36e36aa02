//go:build !race

package search

// raceEnabled shrinks the demo fixture under the race detector.
const raceEnabled = false
