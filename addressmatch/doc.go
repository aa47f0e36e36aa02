// Package addressmatch normalises, parses, compares and checks Chinese
// addresses for the market regulator's registration clerks.
//
// The building blocks are:
//
//   - [Normalize]: an idempotent canonical form (width, traditional
//     characters, numerals, unit words, punctuation).
//   - [Parser]: splits an address into the CCKS2021/GeoGLUE components
//     (province … roomno, see [Label]) with rune offsets, resolves the
//     administrative chain against the embedded NBS 2023 division codes
//     (all provinces, cities, counties and towns/streets of China) and the
//     region the caller passes in Options.Region (its communities, aliases
//     and newer units, merged by code), and fills omitted higher levels.
//   - [Parser.Compare] / [Compare]: match | partial | none with a finer
//     [Level], a score and the differing components.
//   - [DB]: an in-memory, goroutine-safe address database (entities,
//     buildings, a standard-address list) answering [DB.Check] with a
//     matched / doubtful / invalid / outside verdict and candidates, and [DB.Geocode].
//
// Example:
//
//	opts := addressmatch.DefaultOptions()
//	opts.Region = myRegion // a *region.Dict; the demo's is demo.Region()
//	p, _ := addressmatch.NewParser(opts)
//	c := p.Parse("渝北区金开大道六十八号")
//	fmt.Println(c.Admin.Province, c.Get(addressmatch.LabelRoad)) // 重庆市 金开大道
//
//	db, _ := addressmatch.NewDB(addressmatch.DBOptions{Parser: p})
//	_ = db.Add(addressmatch.Record{ID: "91500000X", Address: "重庆市渝北区金开大道68号",
//		Location: orb.Point{106.52, 29.62}, Kind: addressmatch.KindEntity})
//	res, _ := db.Check(ctx, "金开大道68號")
//	fmt.Println(res.Verdict, res.Message) // matched 该地址与地址库匹配通过，该地址注册过市场主体（1户）
//
// The engine is deterministic and rule based: suffix words (省/市/区/县/镇/
// 街道/村/社区/路/街/号/栋/单元/层/室…), the division dictionary, and a few
// context rules (an abbreviation followed by 路 or 城 is a road or a place,
// not a province: 陕西南路, 上海城). Ambiguous names such as 朝阳区 are
// resolved from context or left unresolved (Admin.Ambiguous), never guessed.
// 两江新区 and other functional areas are labelled devzone.
//
// On top of the rules, [Parser.Parse] relabels the spans with a small learned
// model (an averaged-perceptron BIOES tagger over character n-grams, the
// rules' own labels and the dictionaries; see [ParseModel]) when one is
// embedded under model/; Options.NoModel turns it off. The model only changes
// the spans Parse returns: the administrative chain, [DB.Check] and
// [Parser.Compare] keep reading the rules' parse, whose labels their veto
// rules are written for. The model was learned from CC BY-NC 4.0 data and
// inherits those terms (non-commercial): see model/PROVENANCE.md and README.md.
//
// [Parser.Compare] labels a pair with a second learned model when one is
// embedded (model/compare.bin.gz, see [CompareModel]): a multinomial logistic
// regression over features of the rules' comparison of both rule parses
// (component agreement and conflict, name, road and number relations, the
// rules' verdict, string similarities), with small gradient-boosted trees
// stacked on its class probabilities and on numeric pair features. A road or road-number conflict still
// vetoes match, and an administrative conflict is none, after the model.
// [DB.Check] does not use it: the check's verdicts stay on the rules and
// their vetoes. Options.NoCompareModel (or NoModel) gives the rules' labels.
// This model is CC BY-NC 4.0 too.
//
// Everything is safe for concurrent use; the package keeps no mutable global
// state (the parser behind [Compare] and [DefaultParser] is built once on first
// use and immutable afterwards).
//
// Data: the national dictionary under dict/ comes from npm
// china-division@2.7.0 (MIT/WTFPL; NBS 2023 statistical division codes),
// see dict/PROVENANCE.md. No region's communities are embedded: a region
// (the demo's Chongqing, a user's Shenzhen) is data its caller passes in.
// The parse and compare models under model/ are CC BY-NC 4.0, see
// model/PROVENANCE.md.
package addressmatch
