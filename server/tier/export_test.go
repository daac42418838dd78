package tier

import "time"

// SetReserveTTL sets how long a per-user reservation waits for its socket to connect, for
// a test; the returned func restores it.
func SetReserveTTL(d time.Duration) func() {
	old := reserveTTL
	reserveTTL = d
	return func() { reserveTTL = old }
}
