package backup

import (
	"io"
	"sync"
	"sync/atomic"
)

// asyncWriter hands writes to a goroutine that performs them on w, so
// compressing the archive (on that goroutine) overlaps reading and encoding
// rows (on the caller's): a backup uses two cores instead of one. At most
// asyncBuffers chunks are in flight, so memory stays bounded.
type asyncWriter struct {
	w    io.Writer
	work chan []byte
	free chan []byte
	done chan struct{}
	err  error // set by the goroutine; read after done
	// failed is set with err, so Write stops queueing work at once.
	failed atomic.Bool
	once   sync.Once
}

const (
	asyncBuffers = 4
	asyncChunk   = 256 << 10
)

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, work: make(chan []byte, asyncBuffers), free: make(chan []byte, asyncBuffers), done: make(chan struct{})}
	for range asyncBuffers {
		a.free <- make([]byte, 0, asyncChunk)
	}
	go func() {
		defer close(a.done)
		for b := range a.work {
			if a.err == nil {
				if _, a.err = a.w.Write(b); a.err != nil {
					a.failed.Store(true)
				}
			}
			a.free <- b[:0]
		}
	}()
	return a
}

// Write copies p into free buffers and queues them.
func (a *asyncWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if a.failed.Load() {
			return n, a.Close()
		}
		b := <-a.free
		k := min(len(p), cap(b))
		b = append(b, p[:k]...)
		a.work <- b
		p, n = p[k:], n+k
	}
	return n, nil
}

// Close waits for the queued writes and returns the first error. It may be
// called more than once.
func (a *asyncWriter) Close() error {
	a.once.Do(func() { close(a.work) })
	<-a.done
	return a.err
}
