package prometheus

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/steadyhq/steady/resilience/monitor"
	"google.golang.org/protobuf/proto"
)

// durationBounds are the classic buckets of steady_call_duration_seconds,
// in seconds: from 1ms, for a call to a cache, to 1 minute, for a slow
// batch job.
var durationBounds = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// nativeSchema is the schema of the native histogram: 2^3 = 8 buckets per
// power of two, each about 9% wide. The monitor's buckets are 3–6.25% wide,
// so each of them falls within one or two native buckets.
const nativeSchema = 3

// durationHistogram is steady_call_duration_seconds for one monitor: a
// histogram with both classic buckets (for the text format and for
// Prometheus servers without native histograms) and native buckets (sent
// in the protobuf format, which a server with native histograms enabled
// asks for), built from a monitor.Histogram at each scrape.
type durationHistogram struct {
	desc *prometheus.Desc
	h    dto.Histogram
	name string
}

func newDurationHistogram(d *prometheus.Desc, name string, mh *monitor.Histogram) *durationHistogram {
	dh := &durationHistogram{desc: d, name: name}
	h := &dh.h
	count := uint64(mh.Count())
	h.SampleCount = proto.Uint64(count)
	h.SampleSum = proto.Float64(mh.Sum().Seconds())

	// Classic buckets: a monitor bucket counts under the first bound at or
	// above its upper edge, so a bound's count holds no call longer than
	// it, and may miss calls up to one monitor bucket (6.25%) below it.
	cum := make([]uint64, len(durationBounds))
	// Native buckets: the monitor bucket's upper edge picks the native
	// bucket, whose index is ceil(log2(v) * 2^schema).
	var (
		spans   []*dto.BucketSpan
		deltas  []int64
		last    int  // index of the last native bucket written
		open    bool // a native bucket is being filled
		pending int64
		prev    int64 // the count of the bucket before, for the deltas
	)
	flush := func() {
		if !open {
			return
		}
		deltas = append(deltas, pending-prev)
		prev = pending
		*spans[len(spans)-1].Length++
	}
	for upper, c := range mh.Buckets() {
		secs := upper.Seconds()
		for i := len(durationBounds) - 1; i >= 0 && durationBounds[i] >= secs; i-- {
			cum[i] += uint64(c)
		}
		idx := nativeIndex(upper)
		switch {
		case open && idx == last:
			pending += c
			continue
		case open && idx <= last+2:
			// A short gap stays inside the span, as empty buckets.
			flush()
			for range idx - last - 1 {
				deltas = append(deltas, -prev)
				prev = 0
				*spans[len(spans)-1].Length++
			}
		default:
			flush()
			offset := idx
			if open {
				offset = idx - last - 1
			}
			spans = append(spans, &dto.BucketSpan{Offset: proto.Int32(int32(offset)), Length: proto.Uint32(0)})
		}
		last, pending, open = idx, c, true
	}
	flush()
	for i, b := range durationBounds {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(cum[i])})
	}
	h.Schema = proto.Int32(nativeSchema)
	h.ZeroThreshold = proto.Float64(prometheus.DefNativeHistogramZeroThreshold)
	h.ZeroCount = proto.Uint64(0)
	h.PositiveSpan, h.PositiveDelta = spans, deltas
	if count == 0 {
		// An empty native histogram still says it is one.
		h.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	return dh
}

// nativeIndex returns the native bucket (schema nativeSchema) that holds d
// in seconds: bucket i holds (2^((i-1)/8), 2^(i/8)].
func nativeIndex(d time.Duration) int {
	if d == math.MaxInt64 {
		d = time.Hour * 24 // the monitor's overflow bucket: past 73 minutes
	}
	frac, exp := math.Frexp(d.Seconds()) // d = frac * 2^exp, frac in [0.5, 1)
	// log2(d) = exp + log2(frac), log2(frac) in [-1, 0).
	return int(math.Ceil((float64(exp) + math.Log2(frac)) * (1 << nativeSchema)))
}

func (dh *durationHistogram) Desc() *prometheus.Desc { return dh.desc }

func (dh *durationHistogram) Write(m *dto.Metric) error {
	m.Histogram = &dh.h
	m.Label = []*dto.LabelPair{{Name: proto.String("name"), Value: proto.String(dh.name)}}
	return nil
}
