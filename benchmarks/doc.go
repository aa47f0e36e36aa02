// Package benchmarks holds marketgeo's macro benchmarks: every query path of
// the geo index at the demo scale (79,000 entities) and at 1,000,000, on
// data from the demo generator (clustered the way a city is: a 200 m circle
// in a dense district holds a few hundred entities), with a bare
// tidwall/rtree scan beside the radius query as its floor.
//
//	go test ./benchmarks -run XXX -bench . -cpu 1            # 79k and 1M
//
// The 1M datasets take about a minute to generate and load the first time
// in a process; set MARKETGEO_BENCH_SIZES=79000 to skip them.
package benchmarks
