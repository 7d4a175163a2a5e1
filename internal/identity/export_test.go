package identity

// HashCounts returns how many MPIN and password hashes the service has
// computed, so tests can check that answering for an account that does
// not exist costs the same slow work as for one that does.
func (s *Service) HashCounts() (mpin, password int64) {
	return s.mpinHashes.Load(), s.passwordHashes.Load()
}
