package stages

import "testing"

// noMatsLeft makes t fail, after it and its deferred Closes have run, if
// any Mat is still open (with -tags matprofile; a no-op without it).
// Tests in this package run one at a time, so the count is theirs.
func noMatsLeft(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		if n, counted := liveMats(); counted && n != 0 {
			t.Errorf("%d Mats left open (go test -tags matprofile)", n)
		}
	})
}
