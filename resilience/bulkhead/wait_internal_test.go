package bulkhead

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A queued call handed a slot just as its context ends or its queue
// timeout fires: whichever its wait sees first, the slot is neither lost
// nor held twice. The call is queued and handed the slot before it waits,
// so that its wait finds both ready and picks one at random; each round
// checks the outcome and the counts.
func TestWait_handedSlotAsCallLeaves(t *testing.T) {
	t.Run("context ends", func(t *testing.T) {
		b, err := New(Config{MaxConcurrent: 1, MaxQueue: 1})
		require.NoError(t, err)
		var admitted, canceled int
		for range 200 {
			require.NoError(t, b.Acquire(context.Background()))
			w, err := b.enqueue()
			require.NoError(t, err)
			require.NotNil(t, w, "queued")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			b.Release() // hands the slot to w

			err = b.wait(ctx, w)
			s := b.Snapshot()
			require.Zero(t, s.Queued)
			if err == nil {
				admitted++
				require.Equal(t, 1, s.InFlight, "the call holds the slot")
				b.Release()
			} else {
				canceled++
				require.ErrorIs(t, err, context.Canceled)
				require.Equal(t, 0, s.InFlight, "the slot was given back")
			}
		}
		s := b.Snapshot()
		assert.EqualValues(t, 200+admitted, s.Admitted)
		assert.EqualValues(t, canceled, s.Canceled)
		assert.Positive(t, admitted)
		assert.Positive(t, canceled, "the slot was handed to a call that left")
	})
	t.Run("queue timeout fires", func(t *testing.T) {
		b, err := New(Config{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: time.Nanosecond})
		require.NoError(t, err)
		for range 200 {
			require.NoError(t, b.Acquire(context.Background()))
			w, err := b.enqueue()
			require.NoError(t, err)
			require.NotNil(t, w)
			b.Release()
			time.Sleep(time.Microsecond) // the timer has fired

			// A slot handed over as the timeout fired is taken.
			require.NoError(t, b.wait(context.Background(), w))
			require.Equal(t, 1, b.Snapshot().InFlight)
			b.Release()
		}
		s := b.Snapshot()
		assert.EqualValues(t, 400, s.Admitted)
		assert.Zero(t, s.Rejected)
	})
}

// enqueue rejects a call when the queue is full, and takes a slot freed
// since the first look.
func TestEnqueue(t *testing.T) {
	b, err := New(Config{MaxConcurrent: 1, MaxQueue: 1})
	require.NoError(t, err)
	w, err := b.enqueue()
	assert.Nil(t, w)
	assert.NoError(t, err, "a free slot is taken")
	w, err = b.enqueue()
	require.NoError(t, err)
	require.NotNil(t, w)
	w2, err := b.enqueue()
	assert.Nil(t, w2)
	assert.True(t, errors.Is(err, ErrFull))
	assert.True(t, b.leave(w))
	b.Release()
	assert.Zero(t, b.Snapshot().InFlight)
}
