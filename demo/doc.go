// Package demo builds marketgeo's demo region: a realistic model of the
// Liangjiang area of the Chongqing free-trade zone, made of real public data
// (district boundaries, streets and communities with their NBS codes, town
// and community office points, GeoNames places, the FTZ's official area
// figures and real road names) and a deterministic, seeded generator for
// what no public source gives (market entities, buildings, schools and
// hospitals, supervision grids, the FTZ outlines).
//
// The same seed always gives the same data, at any scale:
//
//	ds, err := demo.Generate(demo.Options{Entities: 79000})
//	idx, _ := geo.New(geo.Options{})
//	_ = ds.Load(idx)
//
// data/PROVENANCE.md lists the embedded inputs with their licences; the
// README of the repository says which layer is real and which synthetic.
package demo
