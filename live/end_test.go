package live_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/settings"
)

// TestEndOfStreamNeedsNoSpareSlots plays short files to their end: a
// detection that finishes after the last frame has left the pipeline must
// be dropped, not block the detector (and the session) for ever. The
// detector keeps its finished detections in a bounded list that never
// blocks (stages.AsyncDetect); detect-every 1 offers it every frame, so
// one is nearly always in flight when the file ends. The time bound only
// catches a hang.
func TestEndOfStreamNeedsNoSpareSlots(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "faces.mp4")
	testenv.ShortClip(t, clip, 20, false)
	env := testengine.Env(t, 1)
	for i := range 3 {
		done := make(chan error, 1)
		go func() {
			opt := settings.Defaults().Live()
			opt.Source = live.Source{Camera: -1, Input: clip}
			opt.Tag.DetectEvery = 1
			_, err := live.RunHeadless(context.Background(), env, opt)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("run %d: the session did not end with its source", i)
		}
	}
}
