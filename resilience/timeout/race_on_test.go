//go:build race

package timeout_test

// raceEnabled is true under the race detector, which makes the long
// sequential simulations about ten times slower and has nothing to check
// in them (TestAdaptive_concurrent is the concurrent one).
const raceEnabled = true
