//go:build race

package dashboard_test

// raceOn is true when the race detector is on: the CPU measurement then
// measures the detector more than the dashboard, and skips.
const raceOn = true
