package geo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// makeUSCC builds a valid code from a seed (division code 500112 = 渝北区).
func makeUSCC(i int) string {
	const alpha = usccAlphabet
	body := []byte("91500112")
	x := uint64(i)*2654435761 + 12345
	for j := 0; j < 9; j++ {
		body = append(body, alpha[x%31])
		x /= 31
		x += uint64(j) * 7
	}
	c, err := USCCCheckChar(string(body))
	if err != nil {
		panic(err)
	}
	return string(append(body, c))
}

// clusteredPoints scatters n points around a few centres near (lon, lat),
// the way a city's entities cluster.
func clusteredPoints(r *rand.Rand, n int, lon, lat float64) []orb.Point {
	centres := make([]orb.Point, 20)
	for i := range centres {
		centres[i] = orb.Point{lon + r.NormFloat64()*0.05, lat + r.NormFloat64()*0.05}
	}
	out := make([]orb.Point, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		sd := 0.002 + r.Float64()*0.01
		p := orb.Point{c[0] + r.NormFloat64()*sd/math.Max(0.05, math.Cos(lat*deg2rad)), c[1] + r.NormFloat64()*sd}
		for p[0] > 180 {
			p[0] -= 360
		}
		for p[0] < -180 {
			p[0] += 360
		}
		p[1] = math.Max(-90, math.Min(90, p[1]))
		out[i] = p
	}
	return out
}

func testEntity(i int, p orb.Point) Entity {
	risks := []Risk{RiskA, RiskB, RiskC, RiskD}
	sts := []Status{StatusActive, StatusOperating, StatusRevoked, StatusCancelled}
	inds := []string{"I6510", "F5191", "R9021", "H6210", "C3911"}
	return Entity{
		ID: makeUSCC(i), Name: fmt.Sprintf("测试企业%d有限公司", i), Location: p,
		Risk: risks[i%4], Status: sts[(i/4)%4], Industry: inds[i%5],
	}
}
