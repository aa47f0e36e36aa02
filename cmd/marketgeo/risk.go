package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/marketgeo/marketgeo/demo"
	"github.com/marketgeo/marketgeo/risk"
	"github.com/marketgeo/marketgeo/server"
)

// newRiskEngine builds serve's risk engine (docs/risk.md) with the
// default rules. On the embedded demo: the demo's region (its home
// divisions for the out-of-area warning), its reference day as the clock
// (so that the planted patterns show as planted), and the computed class
// written into every entity's risk attribute (map colours, tiles,
// filters). On the user's data (--data): the system clock, no home region
// (the out-of-area warning off), and the data's own risk attribute kept
// unless MARKETGEO_RISK_WRITE=1 — a loaded rating is not replaced
// unasked; the computed class is answered by /entities/{id}/risk and the
// risk summary either way.
func newRiskEngine(cfg server.FileConfig, log *slog.Logger) (*risk.Engine, error) {
	o := risk.Options{Logger: log, KeepStoredClass: cfg.Data != "" && os.Getenv("MARKETGEO_RISK_WRITE") != "1"}
	if cfg.Data == "" {
		start := time.Now()
		o.Now = func() time.Time { return demo.AsOf().Add(12*time.Hour + time.Since(start)) }
		o.Warnings.HomeDivisions = demo.HomeDivisions()
	}
	return risk.New(o)
}
