// Package dashboard serves a live web page over steady's parts: one card
// per dependency with its calls per second, success, timeouts, latency,
// breaker state, hedges, budget and bulkhead, updated every tick through
// Server-Sent Events.
package dashboard
