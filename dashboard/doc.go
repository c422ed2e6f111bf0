// Package dashboard serves a live web page over steady's parts: one card
// per dependency with its calls per second, success, timeouts, latency,
// current timeout limit, breaker state and recent transitions, hedge rate,
// budget headroom, bulkhead occupancy and firing alerts, colored by
// health, with two-minute sparklines of rate and p99 latency. It updates
// every tick through Server-Sent Events and reconnects by itself.
//
// Make one, mount it in one line, and register each dependency's parts:
//
//	d, err := dashboard.New(dashboard.Config{})
//	if err != nil { ... }
//	defer d.Close()
//	mux.Handle("/steady/", http.StripPrefix("/steady", d))
//	err = d.Register("payments", dashboard.Parts{Metrics: m, Breaker: cb, Hedger: h})
//
// The page, its script and its style sheet are embedded (no CDN, no
// framework, about 12 KB in all), so it works offline. Run
// `go run ./cmd/steady -dashboard 127.0.0.1:8080` to see it during the
// demo's outage.
//
// # Routes
//
// Relative to where the Dashboard is mounted (the page uses relative
// URLs, so any prefix works with [http.StripPrefix]):
//
//	/               the page (and /app.js, /style.css)
//	/events         the event stream (text/event-stream)
//	/snapshot.json  the state at the last tick, with the sparklines ([Snapshot])
//
// Every other path is answered 404, and every method but GET (and HEAD,
// but for /events) 405. The mount point without its slash is redirected
// to it. Every response carries a strict Content-Security-Policy (scripts,
// styles and connections from the page's own origin only, no inline
// script or style, no framing) and X-Content-Type-Options: nosniff.
//
// # What a card shows
//
// Each tick the sampler reads every part's Snapshot once and computes a
// [Card] from the difference with the reading before, so the figures are
// those of the last tick, not since the start: Rate (calls per second),
// Success (successes / calls, canceled calls left out), TimeoutRate
// (timeouts / calls, canceled and rejected ones left out), Timeouts split
// by cause (limit, deadline, propagated), and P50 and P99 of the tick's
// calls (from [monitor.Histogram], within its 6.25%). Total is the one
// cumulative figure: every call recorded, so it changes with every call.
// A breaker's transitions are seen by comparing its transition counts
// from tick to tick; the last 10 are kept, each timed at the tick that
// saw it.
//
// Health is "bad" when the breaker is open, an alert is firing, or less
// than 90% of the tick's calls succeeded; "warn" when the breaker is
// half-open, more than 1% of the calls timed out, or less than 99%
// succeeded; "ok" otherwise (and in a tick with no calls).
//
// A Metrics that is Reset starts its card over: the tick after the Reset
// shows the calls recorded since. A Budget of your own whose Snapshot
// panics is reported once (to Config.Logger, or slog.Default) and left
// out of the card from then on; the sampler goes on.
//
// # JSON
//
// /snapshot.json and each event's data are one JSON object, with
// snake_case names, durations in seconds (floats) and times in RFC 3339:
//
//	type       "full" or "tick" (events only)
//	title      Config.Title
//	epoch      random per Dashboard (a new one means a restarted server)
//	seq        the tick, from 1; 0 before the first
//	time       when the tick's figures were read
//	tick       Config.Tick, seconds
//	history    Config.History, seconds
//	cards      one per registered name, sorted by name:
//	  name, health ("ok", "warn", "bad")
//	  total, rate, success, timeout_rate, p50, p99
//	  timeouts   {total, limit, deadline, propagated}: in the tick
//	  alerts     [{rate, threshold, window, calls, timeouts}]: the firing rules
//	  limit      the adaptive timeout's current limit
//	  breaker    {state ("closed", "open", "half-open"), rejected, transitions: [{time, from, to}]}
//	  hedge      {rate, hedges, wins, delay}
//	  budget     {headroom, reject_rate, retries, denied}
//	  bulkhead   {in_flight, queued, max_concurrent, max_queue, rejected}
//	  history    {rate: [...], p99: [...]}: one point per tick, oldest first
//	             (in /snapshot.json and "full" events only)
//
// A figure without its part (a breaker on a card registered without one)
// is null, as is a rate or latency over a tick with no calls. Names are
// JSON-escaped (<, > and & as \u003c, \u003e, \u0026), and the page puts
// every value in the document through textContent, never as HTML.
//
// # The event stream
//
// The stream starts with "retry: 1000" (the browser reconnects after a
// second) and carries one event per tick, each with
// "id: EPOCH-SEQ" and "data: JSON". The first event of a connection is of
// type "full": the whole state, with the sparklines. The ones after are of
// type "tick": the cards' figures at that tick, without history; the page
// appends each card's rate and p99 to its sparklines, adds the cards that
// appear and drops those that are gone.
//
// On reconnection the browser sends Last-Event-ID. With an id of this
// Dashboard's epoch, the stream starts with the ticks the viewer missed,
// when the dashboard still holds them (the last 64 ticks, or History/Tick
// if fewer), and with a "full" event otherwise; an id of another epoch (the server
// restarted) or none gets a "full" event. The page also opens a new
// stream by itself when the browser gives up (a refused connection, an
// error status), waiting 0.5s and then twice as long each time, up to 5s,
// and shows the connection state.
//
// A stream that has nothing to send for 15s gets a comment line, so that
// proxies keep it open. It ends when the client leaves, when the request's
// context ends, and on [Dashboard.Close]. [http.Server.Shutdown] does not
// end a stream (it waits for it), so close the Dashboard on shutdown:
//
//	srv.RegisterOnShutdown(d.Close)
//
// # Cost
//
// One goroutine, the sampler, reads every part once per tick; nothing is
// added to the calls themselves. It encodes each tick's event once and
// hands the same bytes to every viewer; a viewer that reads slowly holds
// up neither the sampler nor the other viewers (it catches up, or gets
// the full state when it fell more than 64 ticks behind), and one that
// does not read for 10s (or 5 ticks, if longer) is dropped. At most Config.MaxViewers streams
// are open at once; one more is answered 503 with Retry-After: 5.
//
// With 100 cards (each a Metrics and a breaker, a tenth with a hedger,
// budget, bulkhead and adaptive timeout) and 10 viewers, a tick takes
// about 1.2ms of CPU (BenchmarkTick100Parts10Viewers), and the whole
// process, with 10 viewers over loopback HTTP at the default 1s tick,
// used 0.6% to 0.8% of one core over 20s (TestCPU100Parts10Viewers, with
// the viewers in another process); an event is about 32 KB.
//
// # Security
//
// The dashboard has no authentication of its own and shows the names of
// your dependencies and how they fare: mount it behind your own
// authentication, or on an address only operators reach (the demo serves
// it on 127.0.0.1). It takes no input but the Last-Event-ID header, and
// changes nothing.
package dashboard
