// Package exchange is the department data exchange (信息归集): departments'
// tables — Excel workbooks or CSV in UTF-8 or GBK — become records of the
// market entities they are about, stored durably through the store beside
// the entities, and handed back to the department with the match of every
// row.
//
// A [Record] belongs to one entity and one department and has a [Kind]
// (licence, penalty, inspection, complaint, annual report, abnormal-list
// entry and removal, blacklist entry and removal, tax, social insurance,
// output). Records are the store collection "records" ([Collection]): they
// are written through store.Store.Apply in the same commit as the entity
// flags they imply (annual report filed, abnormal, blacklisted: derived
// from the records wherever records of the deciding kinds exist), appear in
// the change log, and are loaded into the exchange's compact index when the
// store opens.
//
// An import ([Exchange.Import], [ReadTable]) finds the header row
// (recognising common Chinese and English headers, or following a
// [Mapping]), reads dirty cells (merged header cells, Excel serial dates,
// codes in lower case, full width or with spaces, trailing empty rows) and
// matches every row ([Matcher]): by a valid USCC, else a former
// registration number or organisation code, else by name and address
// through package search and package addressmatch with a confidence. A row
// that matches nothing well enough, or two entities nearly equally, is not
// attached and is reported with its candidates. A record's identity is its
// department, kind and the department's key of the row when the mapping
// names one, else the hash of its content: importing the same table again
// changes nothing.
//
//	ex, _ := exchange.New(exchange.Options{})
//	st, _ := store.Open(ctx, path, ix, store.Options{Collections: []store.Collection{ex.Collection()}})
//	ex.Attach(st)
//	ex.SetEngines(searchIndex, addressParser, search.NewNameParser(region))
//	rep, table, err := ex.ReadAndImport(ctx, file, "penalties.xlsx", exchange.ImportOptions{Dept: "市场监管局", Kind: "penalty"})
//	_ = exchange.WriteFeedback(out, "xlsx", table, rep)
//
// See docs/exchange.md. Everything is safe for concurrent use.
package exchange
