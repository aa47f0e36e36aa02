package store

import "database/sql"

// QueueLen returns how many Apply calls wait for the committer (tests of
// the group commit).
func QueueLen(s *Store) int {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	return len(s.queue)
}

// Statements returns the statements the backend keeps prepared.
func Statements(s *SQLite) []*sql.Stmt {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	var out []*sql.Stmt
	for _, st := range s.stmts {
		out = append(out, st)
	}
	return out
}
