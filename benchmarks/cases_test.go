package benchmarks_test

// The cases. Each is a top-level benchmark whose sub-benchmarks are named
// impl=..., so that `benchstat -col /impl` puts the implementations side by
// side. Every implementation is built once, before its timed loop; the
// building is in the file of its library (steady_test.go, stdlib_test.go,
// failsafe_test.go, ...), which also says how it was configured.
//
// Benchmarks whose name ends in Parallel call from GOMAXPROCS goroutines at
// once (b.RunParallel); they are where shared state (metrics, a breaker's
// counts) shows its cost. Run them with -cpu 1,2 to see how they scale.

import (
	"context"
	"testing"

	"github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"
	steadybreaker "github.com/steadyhq/steady/resilience/breaker"
	steadybulkhead "github.com/steadyhq/steady/resilience/bulkhead"
)

// impl is one implementation of a case.
type impl struct {
	name  string
	build func(b *testing.B, ctx context.Context) call
}

// runSerial runs each implementation as a sub-benchmark impl=name with
// serial.
func runSerial(b *testing.B, impls []impl) {
	for _, im := range impls {
		b.Run("impl="+im.name, func(b *testing.B) { serial(b, im.build(b, context.Background())) })
	}
}

// runParallel runs each implementation as a sub-benchmark impl=name with
// parallel.
func runParallel(b *testing.B, impls []impl) {
	for _, im := range impls {
		b.Run("impl="+im.name, func(b *testing.B) { parallel(b, im.build(b, context.Background())) })
	}
}

// ctxOnly adapts a builder that needs only the context.
func ctxOnly(f func(context.Context) call) func(*testing.B, context.Context) call {
	return func(_ *testing.B, ctx context.Context) call { return f(ctx) }
}

// withOp adapts a retry builder to the operation fn.
func withOp(f func(context.Context, func(context.Context) (int, error)) call, fn func(context.Context) (int, error)) func(*testing.B, context.Context) call {
	return func(_ *testing.B, ctx context.Context) call { return f(ctx, fn) }
}

// withFailTwice adapts a retry builder to a fresh operation that fails twice
// and then succeeds.
func withFailTwice(f func(context.Context, func(context.Context) (int, error)) call) func(*testing.B, context.Context) call {
	return func(_ *testing.B, ctx context.Context) call { return f(ctx, failTwice()) }
}

// Timeout success path: one timeout around the operation.
var timeoutImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"stdlib", ctxOnly(stdlibTimeout)},
	{"steady", ctxOnly(steadyTimeout)},
	{"failsafe-go", ctxOnly(failsafeTimeoutCall)},
}

func BenchmarkTimeout(b *testing.B)         { runSerial(b, timeoutImpls) }
func BenchmarkTimeoutParallel(b *testing.B) { runParallel(b, timeoutImpls) }

// Adaptive timeout success path: timeout.WithAdaptive past its warm-up,
// with the fixed timeouts as the scale. Its limit is kept within
// [limit/2, limit], so it never fires, and every call runs the control
// loop's per-call work.
var adaptiveImpls = []impl{
	{"stdlib", ctxOnly(stdlibTimeout)},
	{"steady-fixed", ctxOnly(steadyTimeout)},
	{"steady-adaptive", steadyAdaptive},
}

func BenchmarkAdaptiveTimeout(b *testing.B)         { runSerial(b, adaptiveImpls) }
func BenchmarkAdaptiveTimeoutParallel(b *testing.B) { runParallel(b, adaptiveImpls) }

// Abandon-mode timeout: the call returns at the deadline even if the
// operation ignores its context, so the operation runs in a goroutine of
// its own. stdlib (the cooperative inline timeout) is there as the scale.
var abandonImpls = []impl{
	{"stdlib", ctxOnly(stdlibTimeout)},
	{"goroutine-select", ctxOnly(goroutineSelect)},
	{"steady", ctxOnly(steadyAbandon)},
}

func BenchmarkAbandon(b *testing.B) { runSerial(b, abandonImpls) }

// AbandonParallel is Abandon from GOMAXPROCS goroutines at once, without
// the stdlib scale (TimeoutParallel has it): every call starts a goroutine,
// so the scheduler is the shared state here.
var abandonParallelImpls = []impl{
	{"goroutine-select", ctxOnly(goroutineSelect)},
	{"steady", ctxOnly(steadyAbandon)},
}

func BenchmarkAbandonParallel(b *testing.B) { runParallel(b, abandonParallelImpls) }

// Retry success path: the first attempt succeeds.
var retrySuccessImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"steady", withOp(steadyRetry, op)},
	{"backoff-v4", withOp(backoffCall, op)},
	{"retry-go", withOp(retrygoCall, op)},
	{"failsafe-go", withOp(failsafeRetryCall, op)},
	{"go-resiliency", withOp(resiliencyRetryCall, op)},
}

func BenchmarkRetrySuccess(b *testing.B) { runSerial(b, retrySuccessImpls) }

// Retry failure path: two failed attempts, then success, with the smallest
// delays (1ns, doubling, jitter 0.5).
var retryFailTwiceImpls = []impl{
	{"stdlib", withFailTwice(stdlibRetry)},
	{"steady", withFailTwice(steadyRetry)},
	{"backoff-v4", withFailTwice(backoffCall)},
	{"retry-go", withFailTwice(retrygoCall)},
	{"failsafe-go", withFailTwice(failsafeRetryCall)},
	{"go-resiliency", withFailTwice(resiliencyRetryCall)},
}

func BenchmarkRetryFailTwice(b *testing.B) { runSerial(b, retryFailTwiceImpls) }

// Retry with a budget (package budget), against the same Retry without
// one: the cost of the budget's bookkeeping. On the success path a budget
// is told of the call twice (Request, Done); on the fail-twice path it is
// also asked twice for a retry and told of each attempt. One budget is
// shared by every goroutine of the parallel case.
var retryBudgetSuccessImpls = []impl{
	{"steady", withOp(steadyRetry, op)},
	{"steady+adaptive", withOp(steadyRetryAdaptive, op)},
	{"steady+ratio", withOp(steadyRetryRatio, op)},
	{"steady+throttler", withOp(steadyRetryThrottler, op)},
}

func BenchmarkRetryBudgetSuccess(b *testing.B)         { runSerial(b, retryBudgetSuccessImpls) }
func BenchmarkRetryBudgetSuccessParallel(b *testing.B) { runParallel(b, retryBudgetSuccessImpls) }

// The throttler is left out: two failed attempts in three is a dependency
// it would throttle.
var retryBudgetFailTwiceImpls = []impl{
	{"steady", withFailTwice(steadyRetry)},
	{"steady+adaptive", withFailTwice(steadyRetryAdaptive)},
	{"steady+ratio", withFailTwice(steadyRetryRatio)},
}

func BenchmarkRetryBudgetFailTwice(b *testing.B) { runSerial(b, retryBudgetFailTwiceImpls) }

// Monitor: every call's duration and outcome recorded into shared metrics.
// No peer records metrics, so the comparison is with the bare call.
var monitorImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"steady", steadyMonitor},
}

func BenchmarkMonitor(b *testing.B)         { runSerial(b, monitorImpls) }
func BenchmarkMonitorParallel(b *testing.B) { runParallel(b, monitorImpls) }

// Breaker closed: successful calls through a closed circuit breaker.
var breakerClosedImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"steady", steadyBreakerClosed},
	{"gobreaker", ctxOnly(gobreakerClosedCall)},
	{"failsafe-go", ctxOnly(failsafeBreakerCall)},
	{"go-resiliency", ctxOnly(resiliencyClosedCall)},
}

func BenchmarkBreakerClosed(b *testing.B)         { runSerial(b, breakerClosedImpls) }
func BenchmarkBreakerClosedParallel(b *testing.B) { runParallel(b, breakerClosedImpls) }

// Breaker open: calls rejected by a breaker that failures have opened.
type openImpl struct {
	name  string
	build func(b *testing.B, ctx context.Context) call
	err   error // the error a rejected call matches
}

var breakerOpenImpls = []openImpl{
	{"steady", steadyBreakerOpen, steadybreaker.ErrOpen},
	{"gobreaker", gobreakerOpenCall, gobreaker.ErrOpenState},
	{"failsafe-go", failsafeOpenCall, circuitbreaker.ErrOpen},
	{"go-resiliency", resiliencyOpenCall, breaker.ErrBreakerOpen},
}

func BenchmarkBreakerOpen(b *testing.B) {
	for _, im := range breakerOpenImpls {
		b.Run("impl="+im.name, func(b *testing.B) { rejected(b, im.build(b, context.Background()), im.err) })
	}
}

func BenchmarkBreakerOpenParallel(b *testing.B) {
	for _, im := range breakerOpenImpls {
		b.Run("impl="+im.name, func(b *testing.B) { rejectedParallel(b, im.build(b, context.Background()), im.err) })
	}
}

// Limit: a call through a concurrency limit with a free slot.
var limitImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"semaphore", ctxOnly(semaphoreCall)},
	{"steady", steadyLimit},
}

func BenchmarkLimit(b *testing.B)         { runSerial(b, limitImpls) }
func BenchmarkLimitParallel(b *testing.B) { runParallel(b, limitImpls) }

// Limit rejected: a call that finds every slot taken and no queue.
var limitRejectedImpls = []openImpl{
	{"semaphore", semaphoreFull, errSemaphoreFull},
	{"steady", steadyLimitFull, steadybulkhead.ErrFull},
}

func BenchmarkLimitRejected(b *testing.B) {
	for _, im := range limitRejectedImpls {
		b.Run("impl="+im.name, func(b *testing.B) { rejected(b, im.build(b, context.Background()), im.err) })
	}
}

func BenchmarkLimitRejectedParallel(b *testing.B) {
	for _, im := range limitRejectedImpls {
		b.Run("impl="+im.name, func(b *testing.B) { rejectedParallel(b, im.build(b, context.Background()), im.err) })
	}
}

// Coalesce: calls with one key. Serial, each call is alone and runs the
// operation itself; in parallel, calls that overlap share one.
var coalesceImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"singleflight", ctxOnly(singleflightCall)},
	{"steady", ctxOnly(steadyCoalesce)},
}

func BenchmarkCoalesce(b *testing.B)         { runSerial(b, coalesceImpls) }
func BenchmarkCoalesceParallel(b *testing.B) { runParallel(b, coalesceImpls) }

// Pipeline: the full stack on the success path. steady's
// Compose(Monitor, Breaker, Retry, Timeout) against failsafe-go's
// breaker+retry+timeout, with the inline context.WithTimeout as the baseline.
var pipelineImpls = []impl{
	{"bare", ctxOnly(bare)},
	{"stdlib", ctxOnly(stdlibTimeout)},
	{"steady", steadyPipeline},
	{"failsafe-go", ctxOnly(failsafePipeline)},
}

func BenchmarkPipeline(b *testing.B)         { runSerial(b, pipelineImpls) }
func BenchmarkPipelineParallel(b *testing.B) { runParallel(b, pipelineImpls) }
