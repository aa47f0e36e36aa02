//go:build !race

package exchange_test

const raceOn = false
