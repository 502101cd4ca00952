package live_test

import (
	"context"
	"testing"

	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/settings"
)

// TestLiveHonoursSchedule: live runs annotate's schedule, so detect-every
// and cut-threshold decide which frames the detector is offered. The
// Hamilton clip has a hard cut at frame 82 (and a few quick changes near
// the threshold): with keyframes too far apart to matter, the first frame
// and the cuts are the keyframes, and only the first without cut
// detection; with detect-every 10, about one frame in ten is.
func TestLiveHonoursSchedule(t *testing.T) {
	env := testengine.Env(t, 1)
	tests := []struct {
		name     string
		every    int
		cut      float64
		min, max int // keyframes
	}{
		{"first frame and the cuts", 10000, 20, 2, 8},
		{"cut detection off", 10000, 0, 1, 1},
		{"every 10th frame", 10, 0, 20, 28}, // 275 frames; a few may be dropped before the schedule
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := settings.Defaults().Live()
			opt.Source = live.Source{Camera: -1, Input: testenv.Data(t, "clips", "short_hamilton_clip.mp4")}
			opt.Tag.DetectEvery, opt.Tag.CutThreshold = tt.every, tt.cut
			rep, err := live.RunHeadless(context.Background(), env, opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Keyframes < tt.min || rep.Keyframes > tt.max {
				t.Errorf("%d keyframes of %d frames shown, want %d to %d", rep.Keyframes, rep.FramesShown, tt.min, tt.max)
			}
		})
	}
}
