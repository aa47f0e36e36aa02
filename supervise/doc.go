// Package supervise is the platform's supervision operations (一网管住):
// "double random, one public" spot checks (双随机、一公开) with a
// reproducible, published and re-verifiable draw; special tasks split by
// supervision grid to each grid's inspector and tracked to the end;
// hotline complaints (12315, 12365, 12331, 12358) located, matched to an
// entity and routed to the grid's inspector; emergencies with the
// affected area's counts and the nearest response resources; and each
// inspector's inbox, pushed as events.
//
// Everything is durable through the store: spot checks, tasks, task marks,
// complaints, incidents and resources are store collections (written with
// Store.Apply, in the change log with the writer's name), and results of
// checks are written as inspection records of the exchange (so the
// entity's profile and the risk model see them) in the same commit.
//
// The draw's algorithm is specified in draw.go (sorted candidate IDs,
// SplitMix64, partial Fisher–Yates, the pairing rules) and in
// docs/supervise.md.
//
//	sv, _ := supervise.New(supervise.Options{Geocoder: server.AddressGeocoder(db)})
//	st, _ := store.Open(ctx, path, idx, store.Options{Collections: append(ex.Collections(), sv.Collections()...)})
//	sv.Attach(st)
//	sc, _ := sv.CreateSpotCheck(ctx, "clerk", supervise.SpotCheckRequest{Items: []string{"食品经营许可检查"},
//		Filter: supervise.Filter{Industries: []string{"H62"}}, Sample: 50, Seed: &seed, ExcludeOwnGrid: true})
package supervise
