// Package testengine gives tests a pool of the default detector's engines
// loaded from the test models. It lives apart from testenv because recog's
// own tests import testenv, and testenv importing recog would be a cycle.
package testengine

import (
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/recog"
)

// Pool lends up to n engines of the default detector (ultraface, faces
// from 29 px) and is closed when the test ends.
func Pool(t testing.TB, n int) *recog.Pool {
	t.Helper()
	load, err := recog.Loader(testenv.Models(t), recog.UltraFace, 29)
	if err != nil {
		t.Fatal(err)
	}
	p := recog.NewPool(load, n, recog.Growth{})
	t.Cleanup(p.Close)
	return p
}
