// Package testengine gives tests a pool of the default detector's engines
// loaded from the test models. It lives apart from testenv because recog's
// own tests import testenv, and testenv importing recog would be a cycle.
package testengine

import (
	"context"
	"testing"

	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/recog"
)

// Pool lends up to n engines of the default detector (ultraface, faces
// from 29 px) and is closed when the test ends.
func Pool(t testing.TB, n int) *recog.Pool {
	t.Helper()
	load, err := recog.Loader(testenv.Models(t), recog.UltraFace, "", 29)
	if err != nil {
		t.Fatal(err)
	}
	p := recog.NewPool(load, n, recog.Growth{})
	t.Cleanup(p.Close)
	return p
}

// Env is an engine.Env of up to n engines (Pool) and no known faces:
// every face is Unknown.
func Env(t testing.TB, n int) *engine.Env {
	t.Helper()
	return &engine.Env{Engines: Pool(t, n), Gallery: gallery.New(nil, nil)}
}

// Known enrolls the shared known faces (testdata/known) with the pool's
// engines, as vidtag does (photos decoded through gocv Mats).
func Known(t testing.TB, pool *recog.Pool) *gallery.Gallery {
	t.Helper()
	g, _, err := gallery.Load(testenv.Data(t, "known"), func(path string) ([]gallery.Descriptor, error) {
		e, err := pool.Get(context.Background())
		if err != nil {
			return nil, err
		}
		defer pool.Put(e)
		faces, err := e.FacesInPhoto(path, engine.EnrollMaxPixels)
		out := make([]gallery.Descriptor, len(faces))
		for i, f := range faces {
			out[i] = gallery.Descriptor(f.Descriptor)
		}
		return out, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
