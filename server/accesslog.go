package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
)

// AsyncLog is a slog.Handler for the server's log (Deps.Logger: the access
// log, a line a request, and request errors) that keeps the log's
// formatting and writes off the requests: Handle queues the record and
// returns; a goroutine of its own formats the queued records with a text
// (or JSON) handler into a buffer and writes them many lines a system
// call. The queue is bounded: when it is full the record is dropped and
// counted (Dropped; a server whose Deps.Logger uses an AsyncLog reports
// it in /metrics as marketgeo_access_log_dropped_total) instead of the
// request waiting for the log. Close writes what is queued and stops the
// goroutine. Safe for concurrent use.
type AsyncLog struct {
	q *asyncQueue
	h slog.Handler // the formatting handler, WithAttrs/WithGroup applied
}

// AsyncLogOptions configure NewAsyncLog. Zero values mean the defaults.
type AsyncLogOptions struct {
	// QueueLen is how many records may wait to be written; past it they
	// are dropped and counted. Default 8192.
	QueueLen int
	// Handler are the formatting handler's options (level, source);
	// nil: slog's defaults (Info).
	Handler *slog.HandlerOptions
	// JSON writes JSON lines (slog.JSONHandler) instead of text.
	JSON bool
}

// asyncQueue is what an AsyncLog and the handlers derived from it share.
type asyncQueue struct {
	ch      chan asyncRecord
	stop    chan struct{}
	done    chan struct{}
	level   slog.Leveler
	dropped atomic.Uint64
	mu      sync.RWMutex // closed: Close against Handle
	closed  bool
	once    sync.Once
}

type asyncRecord struct {
	h slog.Handler
	r slog.Record
}

// NewAsyncLog returns an AsyncLog writing to w, and starts its goroutine.
func NewAsyncLog(w io.Writer, opts AsyncLogOptions) *AsyncLog {
	if opts.QueueLen <= 0 {
		opts.QueueLen = 8192
	}
	ho := opts.Handler
	if ho == nil {
		ho = &slog.HandlerOptions{}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var h slog.Handler = slog.NewTextHandler(bw, ho)
	if opts.JSON {
		h = slog.NewJSONHandler(bw, ho)
	}
	level := ho.Level
	if level == nil {
		level = slog.LevelInfo
	}
	q := &asyncQueue{ch: make(chan asyncRecord, opts.QueueLen), stop: make(chan struct{}), done: make(chan struct{}), level: level}
	go q.run(w, bw)
	return &AsyncLog{q: q, h: h}
}

// run writes the queued records until Close: all that are queued, then
// one flush (one system call for many lines).
func (q *asyncQueue) run(w io.Writer, bw *bufio.Writer) {
	defer close(q.done)
	pending := 0 // records in bw since the last flush
	write := func(rec asyncRecord) {
		_ = rec.h.Handle(context.Background(), rec.r) // a failed write shows at the flush
		pending++
	}
	flush := func() {
		if err := bw.Flush(); err != nil {
			// the lines in the failed write are lost: counted, and the
			// writer starts afresh (bufio's error would stick)
			q.dropped.Add(uint64(pending))
			bw.Reset(w)
		}
		pending = 0
	}
	for {
		select {
		case rec := <-q.ch:
			write(rec)
			for more := true; more; {
				select {
				case rec := <-q.ch:
					write(rec)
					if bw.Buffered() >= bw.Size()/2 {
						flush()
					}
				default:
					more = false
				}
			}
			flush()
		case <-q.stop:
			for {
				select {
				case rec := <-q.ch:
					write(rec)
				default:
					flush()
					return
				}
			}
		}
	}
}

// Enabled reports whether records of the level are logged.
func (a *AsyncLog) Enabled(_ context.Context, l slog.Level) bool { return l >= a.q.level.Level() }

// Handle queues the record, or drops and counts it when the queue is full
// or the log closed. It does not wait and returns no error.
func (a *AsyncLog) Handle(_ context.Context, r slog.Record) error {
	a.q.mu.RLock()
	defer a.q.mu.RUnlock()
	if a.q.closed {
		a.q.dropped.Add(1)
		return nil
	}
	select {
	case a.q.ch <- asyncRecord{h: a.h, r: r.Clone()}:
	default:
		a.q.dropped.Add(1)
	}
	return nil
}

// WithAttrs returns a handler adding the attributes, on the same queue.
func (a *AsyncLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &AsyncLog{q: a.q, h: a.h.WithAttrs(attrs)}
}

// WithGroup returns a handler with the group, on the same queue.
func (a *AsyncLog) WithGroup(name string) slog.Handler {
	return &AsyncLog{q: a.q, h: a.h.WithGroup(name)}
}

// Dropped returns how many records were dropped: the queue was full, the
// log closed, or their write failed.
func (a *AsyncLog) Dropped() uint64 { return a.q.dropped.Load() }

// Close writes the queued records and stops the goroutine; later records
// are dropped and counted. Safe to call more than once.
func (a *AsyncLog) Close() error {
	a.q.once.Do(func() {
		a.q.mu.Lock()
		a.q.closed = true
		a.q.mu.Unlock()
		close(a.q.stop)
	})
	<-a.q.done
	return nil
}
