package dashboard

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxFrames is the most ticks' events kept for viewers that reconnect or
// fall behind; one further behind gets the full state, which holds the
// whole history anyway.
const maxFrames = 64

// ErrDuplicate is wrapped by the error [Dashboard.Register] returns for a
// name that is already registered.
var ErrDuplicate = errors.New("dashboard: name already registered")

// Dashboard is a live web page over named steady parts: an [http.Handler]
// that serves the page, an event stream of the parts' figures and a JSON
// snapshot (see the package documentation). Make one with [New], mount
// it, and [Dashboard.Register] each dependency's [Parts].
//
// A Dashboard is safe for concurrent use. It runs one goroutine, from New
// to [Dashboard.Close]. The zero Dashboard is not usable: call New.
type Dashboard struct {
	cfg       Config // with defaults
	points    int    // sparkline points kept: History / Tick
	epoch     string // random per Dashboard, in every event id
	now       func() time.Time
	heartbeat time.Duration // see the constant

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // the sampler

	mu      sync.Mutex // guards all below
	cards   map[string]*card
	sorted  []*card // cards by name; nil after a change
	seq     uint64  // the last tick's
	at      time.Time
	frames  [][]byte // ring of the last ticks' encoded events: seq s at s % len
	viewers map[*viewer]struct{}
}

// New returns a Dashboard configured by cfg, with its sampler running, or
// cfg's first bad field as a [*resilience.ConfigError] (see
// [Config.Validate]).
func New(cfg Config) (*Dashboard, error) {
	d, err := newDashboard(cfg)
	if err != nil {
		return nil, err
	}
	d.wg.Add(1)
	go d.run()
	return d, nil
}

// newDashboard returns a Dashboard whose sampler is not started.
func newDashboard(cfg Config) (*Dashboard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var e [8]byte
	_, _ = rand.Read(e[:]) // never fails (crypto/rand)
	d := &Dashboard{
		cfg:       cfg,
		points:    cfg.points(),
		epoch:     hex.EncodeToString(e[:]),
		now:       time.Now,
		heartbeat: heartbeat,
		done:      make(chan struct{}),
		cards:     map[string]*card{},
		at:        time.Now(),
		viewers:   map[*viewer]struct{}{},
	}
	d.frames = make([][]byte, min(d.points, maxFrames))
	return d, nil
}

// run is the sampler: it reads every part each tick until Close.
func (d *Dashboard) run() {
	defer d.wg.Done()
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-d.done:
			return
		case now := <-t.C:
			d.step(now)
		}
	}
}

// Register adds a card named name that shows the parts in p. It returns
// an error for an empty name, a name already registered (wrapping
// [ErrDuplicate]) or a p with no part set. The card appears in the
// viewers' pages at the next tick; [Dashboard.Snapshot] shows it at once.
func (d *Dashboard) Register(name string, p Parts) error {
	switch {
	case name == "":
		return errors.New("dashboard: Register with an empty name")
	case p.empty():
		return fmt.Errorf("dashboard: Register %q with no part set in Parts", name)
	}
	c := newCard(name, p, d.points, d.now(), d.cfg.Logger)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.cards[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	d.cards[name] = c
	d.sorted = nil
	return nil
}

// Unregister removes the card named name and reports whether there was
// one. The card leaves the viewers' pages at the next tick.
func (d *Dashboard) Unregister(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.cards[name]; !ok {
		return false
	}
	delete(d.cards, name)
	d.sorted = nil
	return true
}

// Close stops the sampler and ends every event stream; the page and the
// snapshot still answer, with the last figures, and new streams are
// refused (503). Close is idempotent. Call it when the server shuts down,
// e.g. with [http.Server.RegisterOnShutdown]: [http.Server.Shutdown]
// waits for the streams, which never end by themselves.
func (d *Dashboard) Close() {
	d.closeOnce.Do(func() {
		close(d.done)
		d.wg.Wait()
	})
}

// Snapshot returns the state at the last tick, with the sparklines, as
// /snapshot.json serves it. Cards registered since that tick are there
// with their figures at registration.
func (d *Dashboard) Snapshot() Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.snapshotLocked()
}

func (d *Dashboard) snapshotLocked() Snapshot {
	s := Snapshot{
		Title:   d.cfg.Title,
		Epoch:   d.epoch,
		Seq:     d.seq,
		Time:    d.at,
		Tick:    d.cfg.Tick.Seconds(),
		History: d.cfg.History.Seconds(),
		Cards:   make([]Card, 0, len(d.cards)),
	}
	for _, c := range d.sortedLocked() {
		f := c.last
		h := &History{Rate: make([]float64, c.n), P99: make([]*float64, c.n)}
		for i := range c.n {
			j := (c.head - c.n + i + len(c.rate)) % len(c.rate)
			h.Rate[i] = c.rate[j]
			if v := c.p99[j]; !math.IsNaN(v) {
				h.P99[i] = ptr(v)
			}
		}
		f.History = h
		s.Cards = append(s.Cards, f)
	}
	return s
}

// sortedLocked returns the cards sorted by name.
func (d *Dashboard) sortedLocked() []*card {
	if d.sorted == nil {
		d.sorted = make([]*card, 0, len(d.cards))
		for _, c := range d.cards {
			d.sorted = append(d.sorted, c)
		}
		slices.SortFunc(d.sorted, func(a, b *card) int { return strings.Compare(a.name, b.name) })
	}
	return d.sorted
}

// step samples every card at now, publishes the tick and wakes the
// viewers. Only the sampler calls it (tests call it instead of one).
func (d *Dashboard) step(now time.Time) {
	d.mu.Lock()
	list := d.sortedLocked() // never written again: a change makes a new one
	d.mu.Unlock()

	figs := make([]Card, len(list))
	for i, c := range list {
		figs[i] = c.sample(now)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	cards := figs[:0]
	for i, c := range list {
		if d.cards[c.name] != c {
			continue // unregistered meanwhile
		}
		f := figs[i]
		c.last = f
		c.rate[c.head] = 0
		if f.Rate != nil {
			c.rate[c.head] = *f.Rate
		}
		c.p99[c.head] = math.NaN()
		if f.P99 != nil {
			c.p99[c.head] = *f.P99
		}
		c.head = (c.head + 1) % len(c.rate)
		c.n = min(c.n+1, len(c.rate))
		cards = append(cards, f)
	}
	d.seq++
	d.at = now
	d.frames[d.seq%uint64(len(d.frames))] = d.frame("tick", &Snapshot{
		Title:   d.cfg.Title,
		Epoch:   d.epoch,
		Seq:     d.seq,
		Time:    now,
		Tick:    d.cfg.Tick.Seconds(),
		History: d.cfg.History.Seconds(),
		Cards:   cards,
	})
	for v := range d.viewers {
		select {
		case v.wake <- struct{}{}:
		default: // already woken: it will read every frame it missed
		}
	}
}
