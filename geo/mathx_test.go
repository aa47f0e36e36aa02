package geo

import "math"

func cosF(a float64) float64 { return math.Cos(a) }
func sinF(a float64) float64 { return math.Sin(a) }
