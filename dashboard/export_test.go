package dashboard

import "time"

// NewManual returns a Dashboard without its sampler, whose clock is now:
// tests call Step for each tick.
func NewManual(cfg Config, now func() time.Time) (*Dashboard, error) {
	d, err := newDashboard(cfg)
	if err != nil {
		return nil, err
	}
	d.now = now
	return d, nil
}

// SetHeartbeat sets how long a stream may be idle before a comment.
func (d *Dashboard) SetHeartbeat(h time.Duration) { d.heartbeat = h }

// Step samples every card, as the sampler does each tick, at d's clock.
func (d *Dashboard) Step() { d.step(d.now()) }

// Viewers returns the number of open event streams.
func (d *Dashboard) Viewers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.viewers)
}

// Epoch returns d's epoch, as event ids carry it.
func (d *Dashboard) Epoch() string { return d.epoch }

// StaticSize returns the bytes of the embedded page, script and style sheet.
func StaticSize() int {
	n := 0
	for _, a := range assets {
		n += len(a.body)
	}
	return n
}
