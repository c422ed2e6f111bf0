// Package resilience is the core of steady: the Func and Policy types that
// every policy shares, [Do] and [Compose] to run and build pipelines, and the
// error helpers the policies agree on.
package resilience
