package budget

// SetRand replaces the random source of t's decisions, which must return
// values in [0, 1).
func SetRand(t *Throttler, f func() float64) { t.rand = f }
