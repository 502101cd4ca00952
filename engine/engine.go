// Package engine holds what the runs of one process share, loaded once:
// the pool of detector engines, the gallery of known faces and the logger
// (Env). annotate, live and batch take an Env; Load builds one from the
// models folder and the known-faces folder.
package engine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

// Env is what runs share: loaded once per process. Runs borrow engines
// from the pool and read the gallery; neither is changed by a run.
type Env struct {
	Engines *recog.Pool // detector engines, lent per keyframe
	Gallery *gallery.Gallery
	Log     *zap.Logger
}

// Close closes the engines. An Env made by hand (tests) owns nothing
// unless its pool is its own.
func (e *Env) Close() {
	if e != nil && e.Engines != nil {
		e.Engines.Close()
	}
}

// Config says what Load loads.
type Config struct {
	Models   string // folder of the models; "" for models.Locate's usual places
	Detector string // recog.UltraFace or recog.HOGName
	MinFace  int    // smallest face to find, px (the detector's set-up)
	Workers  int    // most engines
	Known    string // folder of known faces; "" for none (every face Unknown)
	// Spared are the names a blur policy spares (--blur except=): each
	// that is no known person is warned about, since it spares nobody.
	Spared []string
}

// EnrollMaxPixels bounds the size at which known photos are scanned.
const EnrollMaxPixels = 4_000_000

// Load checks the models, loads the first detector engine (more are loaded
// while detection is the bottleneck, up to cfg.Workers) and enrolls the
// known faces. Close the Env when done.
func Load(ctx context.Context, cfg Config, log *zap.Logger) (*Env, error) {
	start := time.Now()
	dir, err := models.Locate(cfg.Models)
	if err != nil {
		return nil, err
	}
	files := models.CNNFiles
	if cfg.Detector == recog.HOGName {
		files = models.HOGFiles
	}
	var verified string // the models' sums, remembered by file (models.VerifyCached)
	if cache := cacheDir("models"); cache != "" {
		verified = filepath.Join(cache, "verified.json")
	}
	if err := models.VerifyCached(dir, verified, files...); err != nil {
		return nil, err
	}
	log.Debug("models verified", zap.Duration("took", time.Since(start)))
	for _, p := range models.WritableByOthers(dir) {
		log.Warn("model file writable by other users: chmod 0644 it (scripts/fetch-models.sh does)", zap.String("file", p))
	}
	load, err := recog.Loader(dir, cfg.Detector, cacheDir("dlib"), cfg.MinFace)
	if err != nil {
		return nil, err
	}
	pool := recog.NewPool(load, cfg.Workers, recog.Growth{
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
		return nil, ctx.Err()
	}
	g, err := Enroll(ctx, cfg.Known, pool, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	WarnSpared(cfg.Spared, g, log)
	log.Info("ready", zap.String("models", dir), zap.Int("max_workers", pool.Max()), zap.Strings("known", g.People()),
		zap.Duration("took", time.Since(start).Round(time.Millisecond)))
	return &Env{Engines: pool, Gallery: g, Log: log}, nil
}

// cacheDir is the folder of one of vidtag's caches: in $VIDTAG_CACHE, else
// in the user's cache folder (~/.cache/vidtag); "" when VIDTAG_CACHE is
// "off". Three caches: "known" (known-face descriptors), "dlib" (dlib's
// decoded HOG detector) and "models" (the model files found good).
// Descriptors are biometric: folders 0700, files 0600 (gallery.Cached,
// embed.LoadFrontal, models.VerifyCached).
func cacheDir(name string) string {
	if dir := os.Getenv("VIDTAG_CACHE"); dir != "" {
		if dir == "off" {
			return ""
		}
		return filepath.Join(dir, name)
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	// Ours alone: 0700 with files 0600, even when an older version made
	// them 0755 and 0644.
	gallery.Private(filepath.Join(dir, "vidtag"))
	gallery.Private(filepath.Join(dir, "vidtag", name))
	return filepath.Join(dir, "vidtag", name)
}

// Enroll loads the known faces in dir with pool's engines; photos it cannot use are warned about by
// name, and an empty gallery is a warning, not an error.
func Enroll(ctx context.Context, dir string, pool *recog.Pool, log *zap.Logger) (*gallery.Gallery, error) {
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
			faces, err := e.FacesInPhoto(path, EnrollMaxPixels)
			pool.Put(e)
			descs := make([]gallery.Descriptor, len(faces))
			for j, f := range faces {
				descs[j] = gallery.Descriptor(f.Descriptor)
			}
			return descs, err
		}
	}
	if cache := cacheDir("known"); cache != "" {
		version := fmt.Sprintf("%s/v%d/max%d", models.Digest(), recog.EnrollVersion, EnrollMaxPixels)
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

// WarnSpared warns about each name a blur policy spares that is not a
// known person: a misspelt name blurs the person it meant to spare (the
// safe way to fail, but worth a line).
func WarnSpared(names []string, g *gallery.Gallery, log *zap.Logger) {
	people := g.People()
	for _, n := range names {
		if !slices.Contains(people, n) {
			log.Warn("--blur except: no known person has this name, so nobody is spared by it", zap.String("name", n), zap.Strings("known", people))
		}
	}
}
