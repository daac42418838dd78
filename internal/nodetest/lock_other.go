//go:build !unix

package nodetest

// lockFile is a no-op where flock does not exist: the install is then only
// serialized within one process.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
