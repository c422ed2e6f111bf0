package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestProgress_lineEverySecondWhenNotATerminal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := newProgress(&buf)
		assert.False(t, p.tty, "a buffer is not a terminal")
		var tl tally
		stop := p.track("steady", 300, &tl)
		tl.done.Store(120)
		tl.ok.Store(100)
		tl.inFlight.Store(7)
		time.Sleep(3500 * time.Millisecond)
		stop()

		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		assert.Equal(t, []string{
			"steady     120/300 done, 100 ok, 20 failed, 7 in flight, 1.0s",
			"steady     120/300 done, 100 ok, 20 failed, 7 in flight, 2.0s",
			"steady     120/300 done, 100 ok, 20 failed, 7 in flight, 3.0s",
		}, lines, "one line a second, never more")
	})
}

func TestProgress_redrawsOneLineOnATerminal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		p := &progress{w: &buf, tty: true, every: 100 * time.Millisecond}
		stop := p.track("no policy", 10, &tally{})
		time.Sleep(250 * time.Millisecond)
		stop()

		out := buf.String()
		assert.NotContains(t, out, "\n", "the line is redrawn in place")
		assert.Equal(t, 2, strings.Count(out, "no policy    0/10 done"))
		assert.True(t, strings.HasSuffix(out, "\r\033[K"), "stop clears the line: %q", out)
	})
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, isTerminal(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	if assert.NoError(t, err) {
		assert.False(t, isTerminal(f), "a regular file")
		assert.NoError(t, f.Close())
	}
}
