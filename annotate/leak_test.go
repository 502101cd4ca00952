//go:build matprofile

package annotate_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/settings"
)

// TestLeakNoMatOutlivesARun runs the whole pipeline under gocv's matprofile
// build tag (go test -tags matprofile) and checks that every Mat it made is
// closed: after a complete run, after a cancelled one, and after one that
// failed on a truncated input.
func TestLeakNoMatOutlivesARun(t *testing.T) {
	// The profile sees Mats at all (else this test proves nothing).
	before := gocv.MatProfile.Count()
	m := gocv.NewMat()
	if gocv.MatProfile.Count() != before+1 {
		t.Fatal("gocv.MatProfile does not count Mats: build with -tags matprofile")
	}
	m.Close()

	pool := testengine.Pool(t, 2)
	// Enrollment decodes photos (PNG and JPEG) through Mats too.
	g := testengine.Known(t, pool)
	if g.Len() != 4 {
		t.Fatalf("enrollment: %d faces", g.Len())
	}
	if n := gocv.MatProfile.Count() - before; n != 0 {
		t.Fatalf("enrollment left %d Mats open", n)
	}
	env := &engine.Env{Engines: pool, Gallery: g}
	// A phone clip (rotation side data): the reader turns frames through
	// a Mat of its own. A small frame budget makes the reader wait for
	// frames to come back.
	rotated := filepath.Join(t.TempDir(), "rotated.mp4")
	testenv.FFmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-t", "2",
		"-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
	tests := []struct {
		name     string
		input    string
		cancelAt int    // cancel after this many frames (0: never)
		blur     string // --blur
		index    bool   // --sidecar-only: frames drop their pixels early
	}{
		{"complete run", "clips/short_hamilton_clip.mp4", 0, "none", false},
		{"cancelled mid-run", "clips/obama_biden_720p.mp4", 60, "none", false},
		{"truncated input", "bad/truncated_40pct.mp4", 0, "none", false},
		{"rotated input, small frame budget", rotated, 0, "none", false},
		{"blurred", "clips/short_hamilton_clip.mp4", 0, "all", false},
		{"blurred, cancelled mid-run", "clips/obama_biden_720p.mp4", 60, "unknown", false},
		{"sidecar only", "clips/short_hamilton_clip.mp4", 0, "none", true},
		{"sidecar only, cancelled mid-run", "clips/obama_biden_720p.mp4", 60, "none", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := gocv.MatProfile.Count()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opt := settings.Defaults().Annotate()
			opt.Input = tt.input
			if !filepath.IsAbs(tt.input) {
				opt.Input = testenv.Data(t, tt.input)
			}
			opt.FrameMemory = 20 * 640 * 360 * 3
			var err error
			if opt.Blur, err = blur.Parse(tt.blur); err != nil {
				t.Fatal(err)
			}
			opt.Output = filepath.Join(t.TempDir(), "out.mp4")
			opt.Sidecar = annotate.DefaultSidecar(opt.Output)
			// The people step crops faces through Mats of its own.
			opt.People = filepath.Join(filepath.Dir(opt.Output), "out.people.json")
			if tt.index {
				opt.Output, opt.SidecarOnly = "", true
			}
			opt.Progress = func(done, _ int) {
				if done == tt.cancelAt {
					cancel()
				}
			}
			plan, err := annotate.Prepare(ctx, opt)
			if err != nil {
				t.Fatal(err)
			}
			annotate.Run(ctx, env, plan)
			if n := media.HeldPictures(); n != 0 {
				t.Errorf("%d decoded pictures still held after the run", n)
			}
			if n := gocv.MatProfile.Count() - before; n != 0 {
				var b bytes.Buffer
				gocv.MatProfile.WriteTo(&b, 1)
				t.Fatalf("%d Mats still open after the run:\n%s", n, b.String())
			}
		})
	}
}
