//go:build race

package exchange_test

// raceOn: the race detector makes matching ~10× slower; the labelled test
// then runs on a smaller region and set.
const raceOn = true
