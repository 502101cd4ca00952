package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

// enrollMaxPixels bounds the size at which known photos are scanned.
const enrollMaxPixels = 4_000_000

// loadEnv checks and loads the models (one engine per worker, in parallel)
// and enrolls the known faces. Close the returned env's engines with the
// returned function.
func loadEnv(ctx context.Context, s settings, log *zap.Logger) (*annotate.Env, func(), error) {
	start := time.Now()
	dir, err := models.Locate(s.Models)
	if err != nil {
		return nil, nil, err
	}
	if err := models.Verify(dir); err != nil {
		return nil, nil, err
	}
	engines := make([]*recog.Engine, s.Workers)
	errs := make([]error, s.Workers)
	var wg sync.WaitGroup
	for i := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			engines[i], errs[i] = recog.New(dir)
		}()
	}
	wg.Wait()
	closeAll := func() {
		for _, e := range engines {
			if e != nil {
				e.Close()
			}
		}
	}
	for _, err := range errs {
		if err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	if ctx.Err() != nil {
		closeAll()
		return nil, nil, ctx.Err()
	}
	g, err := enroll(s.Known, engines, log)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	log.Info("ready", zap.String("models", dir), zap.Int("workers", len(engines)), zap.Strings("known", g.People()),
		zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return &annotate.Env{Engines: engines, Gallery: g, Log: log}, closeAll, nil
}

// enroll loads the known faces; photos it cannot use are warned about by
// name, and an empty gallery is a warning, not an error.
func enroll(dir string, engines []*recog.Engine, log *zap.Logger) (*gallery.Gallery, error) {
	if dir == "" {
		log.Warn("no --known folder: every face will be Unknown")
		return gallery.New(nil, nil), nil
	}
	finders := make([]gallery.FaceFinder, len(engines))
	for i, e := range engines {
		finders[i] = func(path string) ([]gallery.Descriptor, error) {
			faces, err := e.FacesInPhoto(path, enrollMaxPixels)
			descs := make([]gallery.Descriptor, len(faces))
			for j, f := range faces {
				descs[j] = gallery.Descriptor(f.Descriptor)
			}
			return descs, err
		}
	}
	g, problems, err := gallery.Load(dir, finders...)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		log.Warn("known photo skipped", zap.String("photo", p.Path), zap.String("reason", p.Err.Error()))
	}
	if g.Len() == 0 {
		log.Warn(fmt.Sprintf("no usable known face in %s: every face will be Unknown", dir))
	}
	return g, nil
}
