package risk

import (
	"testing"
	"unsafe"

	"github.com/marketgeo/marketgeo/geo"
)

// The engine keeps one entState per entity: its classes are bytes (their
// classRank), not strings, which keeps it at 64 bytes (was 96: 2.5 MB at
// the 79k demo, 32 MB at 1M). A field added to it shows here.
func TestEntStateSize(t *testing.T) {
	if got := unsafe.Sizeof(entState{}); got > 64 {
		t.Fatalf("entState is %d bytes an entity, want at most 64", got)
	}
}

// rankClass undoes classRank for every class an entity can hold ("" for
// none), and what classRank does not know reads back as none.
func TestRankClassRoundTrip(t *testing.T) {
	for _, c := range []geo.Risk{"", geo.RiskA, geo.RiskB, geo.RiskC, geo.RiskD} {
		if got := rankClass(uint8(classRank(c))); got != c {
			t.Errorf("rankClass(classRank(%q)) = %q", c, got)
		}
	}
	if got := rankClass(uint8(classRank("X"))); got != "" {
		t.Errorf("an unknown class reads back as %q", got)
	}
}
