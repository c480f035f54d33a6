package redemption

// AloneCounts returns how many bookings and validations s committed by a
// statement of their own (the tests check their races ran that way).
func AloneCounts(s *Service) (books, captures int64) {
	return s.alone.books.Load(), s.alone.captures.Load()
}

// SetCodes makes bookings draw their voucher codes from next until
// the returned function restores the random ones.
func SetCodes(next func() string) (restore func()) {
	old := newCode
	newCode = next
	return func() { newCode = old }
}

// NewCode is a fresh random voucher code.
func NewCode() string { return randomCode() }
