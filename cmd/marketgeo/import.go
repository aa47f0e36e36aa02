package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/schollz/progressbar/v3"
)

const importUsage = `usage: marketgeo import --dept NAME --kind KIND [--mapping FILE] [--sheet NAME] [--charset gbk]
                        [--feedback OUT.xlsx|OUT.csv] [--store FILE] [--data DIR] [--region DIR] [--dry-run] FILE.xlsx|FILE.csv
  Imports a department's table into the store (docs/exchange.md): every row matched to an entity,
  attached rows stored as records. Kinds: licence penalty inspection complaint annual_report
  abnormal_entry abnormal_removal blacklist_entry blacklist_removal tax social_insurance output
  (or their Chinese names). The store must not be open in a running server: post to
  POST /api/v1/exchange/{dept}?kind= there instead.
`

// importCmd is `marketgeo import`.
func importCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	def := server.DefaultFileConfig()
	dept := fs.String("dept", "", "the department (or the mapping's dept)")
	kind := fs.String("kind", "", "the records' kind (or the mapping's kind, or a kind column)")
	mappingFile := fs.String("mapping", "", "YAML mapping of the table's columns (docs/exchange.md)")
	sheet := fs.String("sheet", "", "the workbook's sheet (default: the first)")
	charset := fs.String("charset", "", "a CSV's charset: utf-8, gbk, gb18030 (default: detected)")
	feedback := fs.String("feedback", "", "write the table back with the match of every row (.xlsx or .csv)")
	storePath := fs.String("store", def.Store, "store file; default: $XDG_DATA_HOME/marketgeo/marketgeo.gpkg")
	regionDir := fs.String("region", def.Region, "directory of the region's division tables (default: the demo's Chongqing)")
	dry := fs.Bool("dry-run", false, "match and report without writing")
	dataDir := fs.String("data", "", "data directory imported into the store first, as serve --data (a new store is otherwise seeded with the embedded demo region)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: give one table file")
	}
	path := fs.Arg(0)
	if *feedback != "" {
		if ext := strings.ToLower(filepath.Ext(*feedback)); ext != ".xlsx" && ext != ".csv" {
			return fmt.Errorf("import: --feedback %s: want a .xlsx or .csv file", *feedback)
		}
	}
	o := exchange.ImportOptions{Dept: *dept, Kind: *kind, DryRun: *dry}
	o.Read.Sheet, o.Read.Charset = *sheet, *charset
	if *mappingFile != "" {
		f, err := os.Open(*mappingFile)
		if err != nil {
			return err
		}
		m, err := exchange.ParseMapping(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("import: %s: %w", *mappingFile, err)
		}
		o.Mapping = m
	}
	data, err := os.Open(path)
	if err != nil {
		return err
	}
	defer data.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := def
	cfg.Store, cfg.Region, cfg.Data = *storePath, *regionDir, *dataDir
	idx, err := geo.New(cfg.GeoOptions())
	if err != nil {
		return err
	}
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		return err
	}
	st, err := openStore(ctx, idx, cfg, log, ex.Collection())
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w\n(a running server has the store: post the table to it, e.g. curl -F file=@%s 'http://127.0.0.1:8080/api/v1/exchange/DEPT?kind=KIND')", err, filepath.Base(path))
		}
		return err
	}
	defer st.Close()
	ex.Attach(st)
	if err := importEngines(ctx, ex, idx, cfg, stderr); err != nil {
		return err
	}
	o.Progress = progressBar(stderr)
	// streamed: the table is read, matched and stored a chunk at a time,
	// and the feedback written as it goes (bounded memory at any length)
	var fw *exchange.FeedbackWriter
	var fbFile *os.File
	if *feedback != "" {
		if fbFile, err = os.Create(*feedback); err != nil {
			return err
		}
		defer fbFile.Close()
		if fw, err = exchange.NewFeedbackWriter(fbFile, strings.TrimPrefix(strings.ToLower(filepath.Ext(*feedback)), ".")); err != nil {
			return err
		}
		o.OnRow = fw.Row
	}
	rep, err := ex.ImportReader(ctx, data, filepath.Base(path), o)
	if rep != nil {
		printImportSummary(stdout, rep)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if fw != nil {
		if err := fw.Close(); err != nil {
			return err
		}
		if err := fbFile.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "feedback written to %s\n", *feedback)
	}
	return nil
}

// importEngines builds what matching by name and address needs: the
// search index, the address parser and the region's name parser.
func importEngines(ctx context.Context, ex *exchange.Exchange, idx *geo.Index, cfg server.FileConfig, stderr io.Writer) error {
	cq, err := cfg.RegionDict()
	if err != nil {
		return err
	}
	if cq == nil {
		if cq, err = demo.Region(); err != nil {
			return err
		}
	}
	t := time.Now()
	sopts := cfg.SearchOptions()
	sopts.Region = cq
	sidx, err := search.New(ctx, idx, sopts)
	if err != nil {
		return err
	}
	if err := sidx.Wait(ctx); err != nil {
		return err
	}
	popts := cfg.ParserOptions()
	popts.Region = cq
	p, err := addressmatch.NewParser(popts)
	if err != nil {
		return err
	}
	ex.SetEngines(sidx, p, search.NewNameParser(cq))
	if isTerminal(stderr) {
		fmt.Fprintf(stderr, "search index and address parser ready in %s\n", time.Since(t).Round(100*time.Millisecond))
	}
	return nil
}

// progressBar returns the progress callback: a bar with rows/s on a
// terminal, nothing otherwise.
func progressBar(w io.Writer) func(exchange.Progress) {
	if !isTerminal(w) {
		return nil
	}
	var bar *progressbar.ProgressBar
	phase := ""
	return func(p exchange.Progress) {
		if p.Phase != phase || bar == nil {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(w)
			}
			phase = p.Phase
			total := p.Total
			if total <= 0 {
				total = -1 // a streamed table: a spinner with the count and rows/s
			}
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("importing"),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"), progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(true))
		}
		_ = bar.Set(p.Done)
		if p.Total > 0 && p.Done >= p.Total {
			_ = bar.Finish()
			fmt.Fprintln(w)
			bar = nil
			phase = ""
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printImportSummary(w io.Writer, rep *exchange.Report) {
	rate := float64(rep.Rows) / max(rep.Took.Seconds(), 1e-9)
	fmt.Fprintf(w, "%s: %d rows (%s, header row %d) for %s, %s, in %s (%.0f rows/s)\n", rep.File, rep.Rows, rep.Encoding, rep.HeaderRow, rep.Dept, rep.Kind, rep.Took.Round(time.Millisecond), rate)
	var cols []string
	for k, v := range rep.Columns {
		cols = append(cols, k+"="+v)
	}
	sort.Strings(cols)
	fmt.Fprintf(w, "  columns: %s\n", strings.Join(cols, ", "))
	fmt.Fprintf(w, "  attached (new or changed records): %d\n", rep.Attached)
	fmt.Fprintf(w, "  matched rows by USCC %d, by organisation code %d, by registration number %d, by name+address %d\n",
		rep.ByMethod[exchange.MethodUSCC], rep.ByMethod[exchange.MethodOrgCode], rep.ByMethod[exchange.MethodRegNo], rep.ByMethod[exchange.MethodNameAddress])
	fmt.Fprintf(w, "  unchanged (already stored): %d, duplicate rows: %d\n", rep.Unchanged, rep.Duplicate)
	fmt.Fprintf(w, "  unmatched: %d, ambiguous: %d, rejected: %d\n", rep.Unmatched, rep.Ambiguous, rep.Rejected)
	for _, r := range rep.TopReasons {
		fmt.Fprintf(w, "    %6d  %s\n", r.Rows, r.Reason)
	}
	fmt.Fprintf(w, "  entity flags changed: %d; store at seq %d\n", rep.FlagsChanged, rep.Seq)
}
