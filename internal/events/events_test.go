package events_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/steadyhq/steady/internal/events"
)

func TestDrain_inOrderOneAtATime(t *testing.T) {
	var q events.Queue[int]
	var (
		mu      sync.Mutex
		got     []int
		running atomic.Int32
		overlap atomic.Bool
	)
	var wg sync.WaitGroup
	var seq sync.Mutex // producers' own lock
	next := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				seq.Lock()
				q.Push(next)
				next++
				seq.Unlock()
				q.Drain(func(e int) {
					if running.Add(1) > 1 {
						overlap.Store(true)
					}
					mu.Lock()
					got = append(got, e)
					mu.Unlock()
					running.Add(-1)
				})
			}
		})
	}
	wg.Wait()
	assert.False(t, overlap.Load(), "handler ran concurrently with itself")
	require.Len(t, got, 800)
	for i, e := range got {
		require.Equal(t, i, e, "out of order")
	}
}

func TestDrain_handlerMayPush(t *testing.T) {
	var q events.Queue[int]
	var got []int
	var handle func(int)
	handle = func(e int) {
		got = append(got, e)
		if e < 3 {
			q.Push(e + 1)
			q.Drain(handle) // another drain is running: returns at once
		}
	}
	q.Push(0)
	q.Drain(handle)
	assert.Equal(t, []int{0, 1, 2, 3}, got)
}

func TestDrain_panicKeepsQueueUsable(t *testing.T) {
	var q events.Queue[int]
	var got []int
	q.Push(1)
	q.Push(2)
	assert.Panics(t, func() {
		q.Drain(func(e int) {
			if e == 1 {
				panic("boom")
			}
		})
	})
	q.Drain(func(e int) { got = append(got, e) })
	assert.Equal(t, []int{2}, got, "the event behind the panic is delivered by the next Drain")
}
