package supervise

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/marketgeo/marketgeo/zoneid"
)

// Options configure a [Service]. Zero values mean the defaults given.
type Options struct {
	// Dept is the department the spot-check and task results are recorded
	// under as inspection records, and complaints as complaint records.
	// Default 市场监督管理局.
	Dept string
	// GridLayer is the zone layer of the supervision grids, whose
	// "inspector" property names each grid's inspector. Default "grid".
	GridLayer string
	// DuplicateWindow is how far back a complaint about the same entity
	// (or, without one, within DuplicateRadiusM of the same point) is a
	// duplicate. Default 7 days.
	DuplicateWindow time.Duration
	// DuplicateRadiusM: see DuplicateWindow. Default 50 m.
	DuplicateRadiusM float64
	// MaxSample caps a spot check's sample. Default 10,000.
	MaxSample int
	// MaxTaskEntities caps the entities of one task. Default 200,000.
	MaxTaskEntities int
	// MaxRadiusM caps an incident's radius. Default 20,000 m.
	MaxRadiusM float64
	// NearestResources is how many resources an incident lists. Default 10.
	NearestResources int
	// InboxBuffer is how many events a subscriber may fall behind before
	// its stream is ended (the client resumes with Last-Event-ID). Default 256.
	InboxBuffer int
	// InboxReplay is how many recent events are kept for resumption.
	// Default 4,096.
	InboxReplay int
	// Geocoder locates complaint addresses (server.AddressGeocoder(db));
	// nil: complaints must give a point or a known entity.
	Geocoder zoneid.Geocoder
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives informational messages; nil discards.
	Logger *slog.Logger
}

// DefaultOptions returns the options with every default filled in.
func DefaultOptions() Options {
	return Options{Dept: "市场监督管理局", GridLayer: "grid", DuplicateWindow: 7 * 24 * time.Hour, DuplicateRadiusM: 50,
		MaxSample: 10_000, MaxTaskEntities: 200_000, MaxRadiusM: 20_000, NearestResources: 10, InboxBuffer: 256, InboxReplay: 4096}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Dept == "" {
		o.Dept = d.Dept
	}
	if o.GridLayer == "" {
		o.GridLayer = d.GridLayer
	}
	if o.DuplicateWindow == 0 {
		o.DuplicateWindow = d.DuplicateWindow
	}
	if o.DuplicateRadiusM == 0 {
		o.DuplicateRadiusM = d.DuplicateRadiusM
	}
	if o.MaxSample == 0 {
		o.MaxSample = d.MaxSample
	}
	if o.MaxTaskEntities == 0 {
		o.MaxTaskEntities = d.MaxTaskEntities
	}
	if o.MaxRadiusM == 0 {
		o.MaxRadiusM = d.MaxRadiusM
	}
	if o.NearestResources == 0 {
		o.NearestResources = d.NearestResources
	}
	if o.InboxBuffer == 0 {
		o.InboxBuffer = d.InboxBuffer
	}
	if o.InboxReplay == 0 {
		o.InboxReplay = d.InboxReplay
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.DuplicateWindow < 0 || o.DuplicateRadiusM < 0 || o.MaxSample < 0 || o.MaxTaskEntities < 0 || o.MaxRadiusM < 0 ||
		o.NearestResources < 0 || o.InboxBuffer < 0 || o.InboxReplay < 0 {
		return fmt.Errorf("%w: options must not be negative", ErrInvalidRequest)
	}
	return nil
}
