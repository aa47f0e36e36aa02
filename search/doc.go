// Package search is marketgeo's fuzzy name search: a Bleve index of the names,
// short names, former names, aliases and addresses of the features of a
// geo.Index, for inspectors who type what people say rather than the
// registered name — "人和中学" for 重庆市人和中学校, "鑫杰装饰" for
// 重庆两江新区鑫杰装饰工程有限公司, "ljgj" or "liangjiangguoji" for 两江国际,
// "鑫jzsgc" on a phone keyboard, or a name with a wrong character.
//
// It is the only package of the module that imports Bleve.
//
// # How a query is answered
//
// Text is folded (full-width → half-width, traditional → simplified, lower
// case, punctuation dropped). Bleve finds candidates through CJK bigrams (and
// unigrams for one-character queries), whole names, and prefixes of the full
// pinyin and of the pinyin initials of short names. The candidates are then
// re-ranked by how the query matches their names, in tiers: exact > prefix >
// substring > pinyin > fuzzy (one or two wrong characters) > partial >
// place kind > address. Hits below an absolute quality threshold, or far below
// the best hit, are dropped, so a name that exists nowhere returns no hit at
// all rather than noise. With a centre, nearer hits rank higher and a radius
// filters; small radii are answered by scoring every feature around the
// centre.
//
// # Short names
//
// A NameParser derives the name people use from a registered name: it
// strips the names of the region given in Options.Region (a region.Dict:
// for the demo 重庆, 重庆市, 两江新区, 重庆两江, the districts; nothing of any
// region is built in), legal forms and branch suffixes (有限公司, 有限责任公司, 股份有限公司, 分公司),
// bracketed parts, and for the core also trailing trade words (科技发展, 商贸,
// 百货店 …) when a distinctive core of two or more characters remains.
//
// # Live updates
//
// New follows the geo index (geo.Index.Follow): every commit is applied to
// the search index before the writing call returns, so the next query sees
// it. The Bleve index gains a segment per commit and is rebuilt in the
// background after Options.CompactAfter commits. With Options.Persist a
// rebuilt index is saved at once, and an index built in memory (the first
// build, a rebuild) is reopened from its save: its segments are then read
// from disk instead of held on the heap (Stats.OnDisk).
//
// # Example
//
//	idx, _ := geo.New(geo.Options{})
//	_ = idx.UpsertPlace(geo.Place{ID: "S1", Name: "重庆市人和中学校", Kind: "school", Location: orb.Point{106.526, 29.637}})
//	s, err := search.New(ctx, idx, search.Options{Region: myRegion})
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	hits, _ := s.Search(ctx, search.Query{Text: "人和中学", Limit: 3})
//	for _, h := range hits {
//		fmt.Println(h.Layer, h.ID, h.Name, h.Match, h.Score)
//	}
//
//	// the feature a person means by a place name, to look around it
//	at, err := s.Place(ctx, "人和中学", nil) // places first, then buildings and entities
//
// Index is safe for concurrent use by any number of goroutines.
package search
