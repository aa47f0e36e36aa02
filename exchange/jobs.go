package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Job is an import running in the background ([Exchange.Start]).
type Job struct {
	// ID names the job ([Exchange.Job]).
	ID string
	// Started is when it started.
	Started time.Time

	done chan struct{}

	mu       sync.Mutex
	progress Progress
	report   *Report
	table    *Table
	err      error
}

// JobState is a job as the API shows it.
type JobState struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"` // running, done, failed
	Started  time.Time `json:"started"`
	Progress Progress  `json:"progress"`
	Report   *Report   `json:"report,omitempty"`
	Error    string    `json:"error,omitempty"`
}

// Done is closed when the job ends.
func (j *Job) Done() <-chan struct{} { return j.done }

// Result returns the job's report, table and error (valid after Done).
func (j *Job) Result() (*Report, *Table, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.report, j.table, j.err
}

// State returns the job's state now.
func (j *Job) State() JobState {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := JobState{ID: j.ID, Status: "running", Started: j.Started, Progress: j.progress, Report: j.report}
	select {
	case <-j.done:
		s.Status = "done"
		if j.err != nil {
			s.Status, s.Error = "failed", j.err.Error()
		}
	default:
	}
	return s
}

// maxJobs is how many finished jobs are kept for GET …/jobs/{id}.
const maxJobs = 100

// Start imports data in the background, detached from the caller's
// context (an import that has begun writing runs to its end: a client
// that goes away does not leave half a table); the job is kept for
// [Exchange.Job] until 100 newer jobs have finished.
func (x *Exchange) Start(data []byte, name string, o ImportOptions) *Job {
	var b [8]byte
	_, _ = rand.Read(b[:])
	j := &Job{ID: hex.EncodeToString(b[:]), Started: time.Now(), done: make(chan struct{})}
	x.jobsMu.Lock()
	if x.jobs == nil {
		x.jobs = map[string]*Job{}
	}
	x.jobs[j.ID] = j
	x.jobOrder = append(x.jobOrder, j.ID)
	for len(x.jobOrder) > maxJobs {
		old := x.jobs[x.jobOrder[0]]
		select {
		case <-old.done:
			delete(x.jobs, x.jobOrder[0])
			x.jobOrder = x.jobOrder[1:]
			continue
		default:
		}
		break
	}
	x.jobsMu.Unlock()
	user := o.Progress
	o.Progress = func(p Progress) {
		j.mu.Lock()
		j.progress = p
		j.mu.Unlock()
		if user != nil {
			user(p)
		}
	}
	go func() {
		defer close(j.done)
		rep, t, err := x.ReadAndImport(context.Background(), bytes.NewReader(data), name, o)
		j.mu.Lock()
		j.report, j.table, j.err = rep, t, err
		j.mu.Unlock()
	}()
	return j
}

// Job returns a job by ID.
func (x *Exchange) Job(id string) (*Job, bool) {
	x.jobsMu.Lock()
	defer x.jobsMu.Unlock()
	j, ok := x.jobs[id]
	return j, ok
}
