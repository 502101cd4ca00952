package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

// enrollMaxPixels bounds the size at which known photos are scanned.
const enrollMaxPixels = 4_000_000

// loadEnv checks the models, loads the first detector engine (more are
// loaded while detection is the bottleneck, up to --workers) and enrolls
// the known faces. Close the pool with the returned function.
func loadEnv(ctx context.Context, s settings, log *zap.Logger) (*annotate.Env, func(), error) {
	start := time.Now()
	dir, err := models.Locate(s.Models)
	if err != nil {
		return nil, nil, err
	}
	files := models.CNNFiles
	if s.Detector == recog.HOGName {
		files = models.HOGFiles
	}
	if err := models.Verify(dir, files...); err != nil {
		return nil, nil, err
	}
	log.Debug("models verified", zap.Duration("took", time.Since(start)))
	for _, p := range models.WritableByOthers(dir) {
		log.Warn("model file writable by other users: chmod 0644 it (scripts/fetch-models.sh does)", zap.String("file", p))
	}
	load, err := recog.Loader(dir, s.Detector, s.MinFace)
	if err != nil {
		return nil, nil, err
	}
	pool := recog.NewPool(load, s.Workers, recog.Growth{
		OnLoad: func(n int, took time.Duration) {
			if n == 1 {
				log.Debug("detector loaded", zap.Duration("took", took))
			} else {
				log.Debug("detector added: detection is the bottleneck", zap.Int("detectors", n), zap.Duration("took", took))
			}
		},
	})
	if ctx.Err() != nil {
		pool.Close()
		return nil, nil, ctx.Err()
	}
	g, err := enroll(ctx, s.Known, pool, log)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	warnBlurNames(s, g, log)
	log.Info("ready", zap.String("models", dir), zap.Int("max_workers", pool.Max()), zap.Strings("known", g.People()),
		zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return &annotate.Env{Engines: pool, Gallery: g, Log: log}, pool.Close, nil
}

// enrollCache is where known-face descriptors are cached: $VIDTAG_CACHE,
// else the user's cache folder (~/.cache/vidtag/known); "off" disables it.
// The descriptors are biometric: folders 0700, files 0600 (gallery.Cached).
func enrollCache() string {
	if dir := os.Getenv("VIDTAG_CACHE"); dir != "" {
		if dir == "off" {
			return ""
		}
		return filepath.Join(dir, "known")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	// Ours alone: 0700, even when an older version made it 0755.
	gallery.Private(filepath.Join(dir, "vidtag"))
	return filepath.Join(dir, "vidtag", "known")
}

// enroll loads the known faces; photos it cannot use are warned about by
// name, and an empty gallery is a warning, not an error.
func enroll(ctx context.Context, dir string, pool *recog.Pool, log *zap.Logger) (*gallery.Gallery, error) {
	if dir == "" {
		log.Warn("no --known folder: every face will be Unknown")
		return gallery.New(nil, nil), nil
	}
	finders := make([]gallery.FaceFinder, pool.Max())
	for i := range finders {
		finders[i] = func(path string) ([]gallery.Descriptor, error) {
			e, err := pool.Get(ctx)
			if err != nil {
				return nil, err
			}
			faces, err := e.FacesInPhoto(path, enrollMaxPixels)
			pool.Put(e)
			descs := make([]gallery.Descriptor, len(faces))
			for j, f := range faces {
				descs[j] = gallery.Descriptor(f.Descriptor)
			}
			return descs, err
		}
	}
	if cache := enrollCache(); cache != "" {
		version := fmt.Sprintf("%s/v%d/max%d", models.Digest(), recog.EnrollVersion, enrollMaxPixels)
		for i, f := range finders {
			finders[i] = gallery.Cached(cache, version, f)
		}
	}
	g, problems, err := gallery.Load(dir, finders...)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		log.Warn("known photo skipped", zap.String("photo", p.Path), zap.String("reason", p.Err.Error()))
	}
	warnSamePhoto(dir, log)
	if g.Len() == 0 {
		log.Warn(fmt.Sprintf("no usable known face in %s: every face will be Unknown", dir))
	}
	return g, nil
}

// warnSamePhoto warns when one photo (the same bytes) is enrolled under
// two names: every face it matches would be either person.
func warnSamePhoto(dir string, log *zap.Logger) {
	photos, err := gallery.Photos(dir)
	if err != nil {
		return
	}
	first := map[[32]byte]gallery.Photo{}
	for _, p := range photos {
		b, err := os.ReadFile(p.Path)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		if q, ok := first[sum]; ok && q.Label != p.Label {
			log.Warn("the same photo is enrolled under two names", zap.String("photo", p.Path), zap.String("label", p.Label),
				zap.String("same_as", q.Path), zap.String("other_label", q.Label))
			continue
		}
		if _, ok := first[sum]; !ok {
			first[sum] = p
		}
	}
}

// warnBlurNames warns about each name --blur except= spares that is not a
// known person: a misspelt name blurs the person it meant to spare (the
// safe way to fail, but worth a line).
func warnBlurNames(s settings, g *gallery.Gallery, log *zap.Logger) {
	p, err := blur.Parse(s.Blur)
	if err != nil || p.Mode != blur.Except {
		return
	}
	people := g.People()
	for _, n := range p.Except {
		if !slices.Contains(people, n) {
			log.Warn("--blur except: no known person has this name, so nobody is spared by it", zap.String("name", n), zap.Strings("known", people))
		}
	}
}
