// Command marketgeo runs the marketgeo engine.
//
//	marketgeo serve [--config FILE] [--print-config] [--addr 127.0.0.1:8080] [--store FILE] [--data DIR] [--strict] [--crs wgs84] [--rules FILE] [--region DIR]
//	marketgeo gen --entities N --out DIR [--seed S]
//
// serve with no --data starts on the embedded demo region (the Liangjiang
// area of the Chongqing FTZ, 79,000 entities).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/marketgeo/marketgeo/addressmatch"
	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/exchange"
	"github.com/marketgeo/marketgeo/geo"
	"github.com/marketgeo/marketgeo/geo/crs"
	"github.com/marketgeo/marketgeo/search"
	"github.com/marketgeo/marketgeo/server"
	"github.com/marketgeo/marketgeo/store"
	"github.com/marketgeo/marketgeo/supervise"
	"github.com/marketgeo/marketgeo/tiles"
	"github.com/marketgeo/marketgeo/zoneid"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "marketgeo:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  marketgeo serve [--config FILE] [--print-config] [--addr 127.0.0.1:8080] [--store FILE|:memory:] [--data DIR] [--strict]
                  [--crs wgs84|gcj02|bd09] [--rules FILE] [--region DIR]
                  [--profile internal|public] [--tokens FILE]   (flags override the config file)
  marketgeo token --scope read|write|admin --name NAME [--expires 2026-12-31]   (a new token and its tokens-file line)
  marketgeo tiles export --out FILE.pmtiles [--minzoom 0] [--maxzoom 16]
  marketgeo gen --entities N --out DIR [--seed S] [--buildings N]
  marketgeo load --data DIR [--strict] [--crs wgs84|gcj02|bd09]   (validate and measure a data directory)
  marketgeo import --dept NAME --kind KIND [--mapping FILE] [--feedback OUT.xlsx] FILE.xlsx|FILE.csv   (a department's table)
`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "tiles":
		return tilesCmd(args[1:], stdout, stderr)
	case "token":
		return tokenCmd(args[1:], stdout)
	case "load":
		return loadCmd(args[1:], stdout, stderr)
	case "gen":
		return gen(args[1:], stdout)
	case "import":
		return importCmd(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// serveConfig reads the serve flags and the --config file into the
// effective configuration: defaults, then the file, then the flags given
// explicitly. printOnly reports --print-config.
func serveConfig(args []string, stderr io.Writer) (cfg server.FileConfig, printOnly bool, err error) {
	def := server.DefaultFileConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file (docs/config.example.yaml); flags given explicitly override it")
	printConfig := fs.Bool("print-config", false, "print the effective configuration as YAML and exit")
	addr := fs.String("addr", def.Addr, "listen address")
	dataDir := fs.String("data", def.Data, "data directory (entities.csv, buildings.geojson, places.geojson, zones*.geojson) to import into the store; default: the embedded demo region on a new store")
	storePath := fs.String("store", def.Store, "store file (a GeoPackage that keeps every write) or :memory:; default: $XDG_DATA_HOME/marketgeo/marketgeo.gpkg")
	strict := fs.Bool("strict", def.Strict, "reject a whole file at its first bad record")
	inCRS := fs.String("crs", def.CRS, "coordinate system of the files in --data")
	rulesFile := fs.String("rules", def.Rules, "siting rules JSON file (docs/zones.md); default: the embedded demo rules")
	applyProfile := profileFlags(fs, def) // --profile, --tokens (profile.go)
	regionDir := fs.String("region", def.Region, "directory of the region's NBS division tables (provinces.csv, cities.csv, areas.csv, streets.csv, villages.csv, aliases.csv); default: the demo's Chongqing")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg = def
	if *configFile != "" {
		if cfg, err = server.Load(*configFile); err != nil {
			return cfg, false, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "addr":
			cfg.Addr = *addr
		case "data":
			cfg.Data = *dataDir
		case "store":
			cfg.Store = *storePath
		case "strict":
			cfg.Strict = *strict
		case "crs":
			cfg.CRS = *inCRS
		case "rules":
			cfg.Rules = *rulesFile
		case "region":
			cfg.Region = *regionDir
		default:
			applyProfile(&cfg, f.Name)
		}
	})
	if err := cfg.Validate(); err != nil {
		return cfg, false, err
	}
	return cfg, *printConfig, nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	cfg, printOnly, err := serveConfig(args, stderr)
	if err != nil {
		return err
	}
	if printOnly {
		b, err := cfg.Marshal()
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	srvLog, flushLog, err := serverLogger(os.Getenv("MARKETGEO_ACCESS_LOG"), stderr) // the access log (accesslog.go)
	if err != nil {
		return err
	}
	defer flushLog()
	setMemoryLimit(log)
	startProfiler(os.Getenv("MARKETGEO_PPROF"), log)
	start := time.Now()
	restoreGC := loadGC()
	ex, err := exchange.New(exchange.Options{})
	if err != nil {
		return err
	}
	rk, err := newRiskEngine(cfg, log) // risk.go
	if err != nil {
		return err
	}
	sv, err := supervise.New(supervise.Options{Logger: log}) // spot checks, tasks, complaints, incidents, inboxes (supervise.go)
	if err != nil {
		return err
	}
	idx, st, err := openServeStore(context.Background(), cfg, log, append([]store.Collection{rk.RecordsCollection(ex.Collection()), rk.OverridesCollection()}, sv.Collections()...)...)
	restoreGC()
	if err != nil {
		return err
	}
	defer st.Close()
	// The start-up builds that follow (risk classes, tiles, the search
	// index, the address database) already collect at the steady GOGC:
	// their peak is the heap marked with their transients in flight times
	// 1 + GOGC/100, 8.4 GiB at 1M with GOGC 100 (docs/memory.md).
	steadyGC()
	ex.Attach(st)
	if err := attachSupervise(context.Background(), sv, st, cfg, log); err != nil {
		return err
	}
	if err := setRiskOptions(context.Background(), rk, st, cfg, log); err != nil { // risk.go: the demo's or the user's data
		return err
	}
	if err := rk.Start(idx, st); err != nil { // every entity's class, then the change stream
		return err
	}
	defer rk.Close()
	c := idx.Snapshot().Counts()
	log.Info("index ready", "entities", c.Entities, "buildings", c.Buildings, "places", c.Places, "zones", c.Zones, "took", time.Since(start).Round(time.Millisecond))
	zopts, err := cfg.ZoneOptions()
	if err != nil {
		return err
	}
	if zopts.Rules == nil {
		// The binary's default rules are the demo's (the library has none).
		if zopts.Rules, err = zoneid.ParseRules(bytes.NewReader(demo.RulesJSON())); err != nil {
			return err
		}
	}
	// The region (--region, else the demo's): search strips its names from
	// company names, and the address parser adds its communities and
	// aliases to the national divisions (the library knows no region).
	cq, err := cfg.RegionDict()
	if err != nil {
		return err
	}
	if cq == nil {
		if cq, err = demo.Region(); err != nil {
			return err
		}
	}
	zones, err := zoneid.New(idx, zopts)
	if err != nil {
		return err
	}
	defer zones.Close()
	// Tiles before the search build starts in the background, which would
	// take the cores the tile renderer's first scan needs: geo, zone and
	// tile queries are answered as soon as the server listens.
	tr, err := tiles.New(idx, tileOptions(cfg)) // the public profile's: public fields only
	if err != nil {
		return err
	}
	defer tr.Close()
	economyTiles(rk, tr) // risk.go: the building tiles carry the economy API's figures
	if err := baseMapRoads(tr, cfg.Data); err != nil {
		return err
	}
	// A signal stops the search build as well as the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After a burst of requests (or the start-up's last build), once
	// quiet, the garbage is collected and the memory returned (runtime.go).
	go returnWhenQuiet(ctx, 5*time.Second)
	// The search index builds in the background: /search answers 503 until
	// /healthz shows search.ready.
	sopts := cfg.SearchOptions()
	sopts.Background = true
	sopts.Region = cq
	persist := newIndexPersister(cfg, log) // search index and address parses beside the store (persist.go)
	sopts.Persist = persist.searchPersist()
	sidx, err := search.New(ctx, idx, sopts)
	if err != nil {
		return err
	}
	defer sidx.Close()
	defer persist.shutdown() // before the Closes
	go persist.run(ctx)
	go func() {
		if err := sidx.Wait(context.Background()); err != nil {
			log.Error("search index failed", "err", err)
			return
		}
		log.Info("search index ready", "docs", sidx.Stats().Docs, "took", sidx.Stats().BuildTime.Round(time.Millisecond))
		persist.searchReady(sidx)
	}()
	srvOpts, err := serverOptions(cfg, log) // the tokens file (profile.go)
	if err != nil {
		return err
	}
	wm, wmOrigins, err := webmapFiles(os.Getenv("MARKETGEO_WEBMAP")) // a deployment's base layers (webmap.go)
	if err != nil {
		return err
	}
	srvOpts.WebMapOrigins = append(srvOpts.WebMapOrigins, wmOrigins...)
	srv0, err := server.NewServer(server.Deps{Index: idx, Store: st, Exchange: ex, Risk: rk, Supervise: sv, Tiles: tr, WebMap: wm, Zones: zones, Search: sidx, AwaitAddresses: true, Logger: srvLog}, srvOpts)
	if err != nil {
		return err
	}
	var h http.Handler = srv0
	// The address database takes a few seconds to build: serve geo queries
	// at once and attach it when ready (its endpoints answer 503 until then).
	go func() {
		t := time.Now()
		dopts := cfg.AddressOptions()
		var db *addressmatch.DB
		popts := cfg.ParserOptions()
		popts.Region = cq
		p, err := addressmatch.NewParser(popts)
		dopts.Parser = p
		if err == nil {
			db, err = addressmatch.NewDB(dopts)
		}
		// the exchange matches names and addresses, complaints match
		// entity names, once search answers
		engines := sync.OnceFunc(func() {
			ex.SetEngines(sidx, p, search.NewNameParser(cq))
			sv.SetSearch(sidx)
		})
		loaded := false
		if err == nil {
			// The fill runs after the search index is built or restored,
			// not beside it: the two working sets together made the
			// start's peak memory (docs/memory.md: a 1M restart's reached
			// 4.7 GiB with the saved parses' fill beside the search
			// restore), and on two cores they take about as long one
			// after the other. With the parses saved by the last run
			// (same build and configuration) the fill parses nothing.
			_ = sidx.Wait(ctx)
			engines()
			startupDone() // the search build's batches are garbage now
			loaded = persist.loadParsed(db)
			var follower *addressmatch.Follower
			follower, err = addressmatch.Follow(db, idx)
			_ = follower // follows the index for the life of the process
		}
		if err != nil {
			log.Error("address database failed", "err", err)
			return
		}
		srv0.SetAddresses(db)
		sv.SetGeocoder(server.AddressGeocoder(db)) // complaints are located by address from now on
		persist.addressesReady(db, loaded)
		log.Info("address database ready", "addresses", db.Len(), "took", time.Since(t).Round(time.Millisecond))
		_ = sidx.Wait(ctx)
		engines()
		startupDone()
		// A store seeded with the demo gets the demo's department tables,
		// once, now that names and addresses can be matched.
		imported, err := importDemoRecords(ctx, ex, st, log)
		if err != nil {
			log.Warn("demo department tables not imported", "err", err)
		}
		if imported {
			startupDone() // the import's tables and matcher are garbage now
		}
	}()
	// SIGTERM: the requests in flight finish, then the deferred Closes
	// close the store cleanly (profile.go).
	return listen(ctx, cfg.Addr, h, srv0.Drain, srvOpts, log, start)
}

// loadGC collects less often while a load builds a large heap of
// long-lived objects (the process's choice, not the library's); the
// function it returns restores the setting and returns what the load no
// longer needs to the system, in the background. Loads may nest.
func loadGC() func() {
	old := debug.SetGCPercent(-1)
	if old >= 0 && old < 400 {
		debug.SetGCPercent(400)
	} else {
		debug.SetGCPercent(old) // GOGC set higher or off by the user: keep it
	}
	return func() {
		debug.SetGCPercent(old)
		go debug.FreeOSMemory()
	}
}

// loadData fills idx with the embedded demo region (dataDir == "") or the
// files of dataDir, logging what each file loaded and rejected.
func loadData(idx *geo.Index, dataDir, inCRS string, strict bool, log *slog.Logger) error {
	start := time.Now()
	defer loadGC()()
	if dataDir == "" {
		ds, err := demo.Generate(demo.Options{})
		if err != nil {
			return err
		}
		if _, err := demo.Plant(ds, demo.PlantOptions{}); err != nil { // the early warnings' planted patterns (docs/risk.md)
			return err
		}
		if err := ds.Load(idx); err != nil {
			return err
		}
		log.Info("demo region loaded", "took", time.Since(start).Round(time.Millisecond))
		return nil
	}
	c, err := crs.Parse(inCRS)
	if err != nil {
		return err
	}
	reports, err := geo.LoadDir(context.Background(), idx, dataDir, geo.LoadOptions{Strict: strict, CRS: c})
	for _, r := range reports {
		log.Info("loaded", "file", r.Source, "layer", r.Layer, "loaded", r.Loaded, "rejected", r.Rejected)
		for _, e := range r.Errors {
			log.Warn("rejected record", "file", r.Source, "error", e.Error())
		}
	}
	return err
}

func gen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("entities", 79000, "number of entities")
	nb := fs.Int("buildings", 0, "number of buildings (default: entities × 20,000 / 79,000)")
	seed := fs.Uint64("seed", 0, "random seed (default 20170401)")
	out := fs.String("out", "", "output directory (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("gen: --out is required")
	}
	if *n <= 0 {
		return fmt.Errorf("gen: --entities must be positive")
	}
	start := time.Now()
	ds, err := demo.Generate(demo.Options{Entities: *n, Buildings: *nb, Seed: *seed})
	if err != nil {
		return err
	}
	if err := demo.WriteDir(ds, *out); err != nil {
		return err
	}
	// the departments' tables about them (issue 17), for marketgeo import
	if err := writeDeptTables(filepath.Join(*out, "departments"), demo.DepartmentTables(ds, demo.DeptOptions{})); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d entities, %d buildings, %d places, %d zones to %s in %v\n",
		len(ds.Entities), len(ds.Buildings), len(ds.Places), len(ds.Zones), *out, time.Since(start).Round(time.Millisecond))
	return nil
}
