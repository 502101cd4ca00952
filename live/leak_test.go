//go:build matprofile

package live_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/settings"
)

// TestLeakLiveSession: no Mat outlives a live session, whether the source
// ends or the session is stopped midway (go test -tags matprofile).
func TestLeakLiveSession(t *testing.T) {
	env := testengine.Env(t, 2)
	if err := env.Engines.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, stopAfter := range []time.Duration{0, 1500 * time.Millisecond} {
		for _, b := range []blur.Mode{blur.None, blur.All} {
			before := gocv.MatProfile.Count()
			ctx, cancel := context.WithCancel(context.Background())
			if stopAfter > 0 {
				time.AfterFunc(stopAfter, cancel)
			}
			opt := settings.Defaults().Live()
			opt.Source = live.Source{Camera: -1, Input: testenv.Data(t, "bad", "truncated_40pct.mp4")}
			opt.Tag.Blur.Mode = b
			// On a loaded machine the stop may come before the session has
			// started: that is a stop too, and must leak nothing either.
			if _, err := live.RunHeadless(ctx, env, opt); err != nil && !(stopAfter > 0 && errors.Is(err, context.Canceled)) {
				t.Fatal(err)
			}
			cancel()
			if n := gocv.MatProfile.Count() - before; n != 0 {
				t.Errorf("stop after %v, blur %v: %d Mats still open", stopAfter, opt.Tag.Blur, n)
			}
		}
	}
}
