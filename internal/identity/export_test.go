package identity

import "time"

// SetRevocationTTL sets how long s trusts a revocation epoch it read while
// not listening for notices (tests: longer than the test, so that only a
// notice can stop a token early).
func SetRevocationTTL(s *Service, ttl time.Duration) {
	s.revoked.mu.Lock()
	s.revoked.ttl = ttl
	s.revoked.mu.Unlock()
}

// ListeningForRevocations reports whether s trusts its notices now.
func ListeningForRevocations(s *Service) bool {
	s.revoked.mu.Lock()
	defer s.revoked.mu.Unlock()
	return s.revoked.listening
}
