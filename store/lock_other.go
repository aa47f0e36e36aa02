//go:build !unix

package store

import (
	"fmt"
	"os"
)

// lockFile creates the lock file; without flock(2) it cannot keep a second
// process out, so on these systems run one writer per store.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return f, nil
}
