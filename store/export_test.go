package store

// QueueLen returns how many Apply calls wait for the committer (tests of
// the group commit).
func QueueLen(s *Store) int {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	return len(s.queue)
}
