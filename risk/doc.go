// Package risk computes the supervision risk class A–D of every market
// entity from a documented, configurable rule set over the entity and its
// department records (package exchange), keeps it current from the change
// stream, raises early warnings (registration clusters, zombie and shell
// entities, industry shifts, out-of-area investment, licence expiries)
// and sums the building economy. docs/risk.md describes the rules, the
// warnings and how the computed class reaches the map.
//
// The rule set is YAML, strict, with the default embedded
// ([DefaultRules], rules.yaml). [Rules.Evaluate] is the pure evaluator;
// the [Engine] applies it to every entity of a geo index:
//
//	eng, _ := risk.New(risk.Options{})
//	colls := []store.Collection{eng.RecordsCollection(ex.Collection()), eng.OverridesCollection()}
//	st, _ := store.Open(ctx, path, idx, store.Options{Collections: colls})
//	_ = eng.Start(idx, st) // evaluates everything, then follows the changes
//	a, _ := eng.Assess("91500000MA5U7G4K3U")
//	fmt.Println(a.Class, a.Score, a.Reasons)
//
// The engine writes the class in force (an override's while one holds,
// else the computed one) into the entity's risk attribute through the
// store, writer "risk": the index, tiles, filters and zone summaries read
// it like any attribute. Rules never read the clock: the engine's Now
// option is the only time they see.
package risk
