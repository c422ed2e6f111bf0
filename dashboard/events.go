package dashboard

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// viewer is one open event stream.
type viewer struct {
	// wake gets a value when a tick is published; one is enough, since
	// the viewer then sends every frame it has not sent.
	wake chan struct{}
}

const (
	// heartbeat is how long a stream may go without a write before it
	// gets a comment, so that proxies and the browser keep it open (with
	// a Tick longer than that).
	heartbeat = 15 * time.Second
	// retryAfter is the Retry-After of a refused stream, in seconds.
	retryAfter = "5"
)

// writeTimeout is how long one write to a viewer may take; a viewer that
// does not read for that long is dropped, and its browser reconnects.
func (d *Dashboard) writeTimeout() time.Duration { return max(10*time.Second, 5*d.cfg.Tick) }

// frame returns the SSE event for s: "id: EPOCH-SEQ", "data: JSON" with
// field "type" set to typ ("full" or "tick").
func (d *Dashboard) frame(typ string, s *Snapshot) []byte {
	ev := struct {
		Type string `json:"type"`
		*Snapshot
	}{typ, s}
	var b bytes.Buffer
	b.WriteString("id: ")
	b.WriteString(d.epoch)
	b.WriteByte('-')
	b.WriteString(strconv.FormatUint(s.Seq, 10))
	b.WriteString("\ndata: ")
	n := b.Len()
	// The JSON has no newline (json.Encoder adds one at the end only), and
	// escapes <, > and & in strings. Only a NaN or an infinity could make
	// it fail, and the figures keep them out; if one got through, the
	// event goes out without its cards rather than not at all.
	if err := json.NewEncoder(&b).Encode(ev); err != nil {
		if l := d.cfg.Logger; l != nil {
			l.Error("dashboard: encoding a tick", slog.String("error", err.Error()))
		}
		b.Truncate(n)
		empty := *s
		empty.Cards = []Card{}
		_ = json.NewEncoder(&b).Encode(struct {
			Type string `json:"type"`
			*Snapshot
		}{typ, &empty})
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// lastSeq returns the sequence number in a Last-Event-ID of this
// Dashboard's epoch, and false for another epoch or none.
func (d *Dashboard) lastSeq(id string) (uint64, bool) {
	epoch, seq, ok := strings.Cut(id, "-")
	if !ok || epoch != d.epoch {
		return 0, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	return n, err == nil
}

// pendingLocked returns the frames a viewer that has sent up to seq sent
// should send now, or, when it is too far behind (or sent is not a seq
// of this epoch), full = true: it should send the full state.
func (d *Dashboard) pendingLocked(sent uint64, known bool) (frames [][]byte, full bool) {
	held := min(d.seq, uint64(len(d.frames)))
	if !known || sent > d.seq || sent+held < d.seq {
		return nil, true
	}
	for s := sent + 1; s <= d.seq; s++ {
		frames = append(frames, d.frames[s%uint64(len(d.frames))])
	}
	return frames, false
}

// next returns what a viewer that has sent up to sent should write now,
// and the seq it will have sent.
func (d *Dashboard) next(sent uint64, known bool) ([][]byte, uint64) {
	d.mu.Lock()
	frames, full := d.pendingLocked(sent, known)
	if !full {
		seq := d.seq
		d.mu.Unlock()
		return frames, seq
	}
	s := d.snapshotLocked()
	d.mu.Unlock()
	return [][]byte{d.frame("full", &s)}, s.Seq
}

// serveEvents serves one event stream until the client leaves, the server
// ends the request, or d is closed.
func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	select {
	case <-d.done:
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "503 dashboard closed", http.StatusServiceUnavailable)
		return
	default:
	}
	v := &viewer{wake: make(chan struct{}, 1)}
	d.mu.Lock()
	if len(d.viewers) >= d.cfg.MaxViewers {
		d.mu.Unlock()
		if l := d.cfg.Logger; l != nil {
			l.LogAttrs(r.Context(), slog.LevelWarn, "dashboard: viewer refused, MaxViewers reached",
				slog.Int("max_viewers", d.cfg.MaxViewers))
		}
		w.Header().Set("Retry-After", retryAfter)
		http.Error(w, "503 too many viewers", http.StatusServiceUnavailable)
		return
	}
	d.viewers[v] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.viewers, v)
		d.mu.Unlock()
	}()

	sent, known := d.lastSeq(r.Header.Get("Last-Event-ID"))
	frames, sent := d.next(sent, known)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // no buffering in nginx
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	// The connection may serve other requests after this one, and the
	// server sets no deadline of its own without a WriteTimeout.
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	write := func(prefix string, frames [][]byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(d.writeTimeout())) // not every ResponseWriter can
		if prefix != "" {
			if _, err := w.Write([]byte(prefix)); err != nil {
				return d.dropped(r, err)
			}
		}
		for _, f := range frames {
			if _, err := w.Write(f); err != nil {
				return d.dropped(r, err)
			}
		}
		if err := rc.Flush(); err != nil {
			return d.dropped(r, err)
		}
		return true
	}
	if !write("retry: 1000\n\n", frames) {
		return
	}
	idle := time.NewTimer(d.heartbeat)
	defer idle.Stop()
	ctx := r.Context()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.done:
			return
		case <-v.wake:
			frames, sent = d.next(sent, true)
			if len(frames) == 0 {
				continue
			}
			if !write("", frames) {
				return
			}
		case <-idle.C:
			if !write(": keep-alive\n\n", nil) {
				return
			}
		}
		idle.Reset(d.heartbeat)
	}
}

// dropped logs why a stream failed and returns false.
func (d *Dashboard) dropped(r *http.Request, err error) bool {
	if l := d.cfg.Logger; l != nil && r.Context().Err() == nil {
		l.LogAttrs(r.Context(), slog.LevelInfo, "dashboard: stream dropped", slog.String("error", err.Error()))
	}
	return false
}
