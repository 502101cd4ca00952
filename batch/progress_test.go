package batch

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

// TestProgressFromConcurrentJobs runs three videos on three jobs with a
// progress callback that keeps state without a lock of its own, as the
// CLI's bar does. Under -race (make test) a concurrent call is a failure;
// the test also checks that calls never overlap and counts only grow.
func TestProgressFromConcurrentJobs(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	for _, name := range []string{"a.mp4", "b.mp4", "c.mp4"} {
		testenv.ShortClip(t, filepath.Join(in, name), 90, false)
	}
	env := testengine.Env(t, 2)

	var (
		calls   []Progress // no lock: Run promises one call at a time
		inside  atomic.Int32
		overlap atomic.Bool
	)
	tag := settings.Defaults().Annotate()
	tag.Settings = "progress-test"
	tag.Lookahead = 0 // frames flow out as they are tracked, not in a burst at the end
	opt := Options{In: in, Out: out, Jobs: 3, Shard: Shard{Index: 0, Count: 1}, SidecarOnly: true, Tag: tag,
		Env: func() (*engine.Env, error) { return env, nil },
		Progress: func(p Progress) {
			if inside.Add(1) > 1 {
				overlap.Store(true)
			}
			calls = append(calls, p)
			time.Sleep(time.Millisecond) // a terminal write takes time: widen any overlap
			inside.Add(-1)
		},
	}
	rep, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.OK != 3 {
		t.Fatalf("report %+v", rep.Totals)
	}
	if overlap.Load() {
		t.Error("the progress callback ran from two jobs at once")
	}
	for i := 1; i < len(calls); i++ {
		if calls[i].Frames < calls[i-1].Frames || calls[i].VideosDone < calls[i-1].VideosDone {
			t.Fatalf("progress went back: %+v then %+v", calls[i-1], calls[i])
		}
	}
	last := calls[len(calls)-1]
	if want := (Progress{Videos: 3, VideosDone: 3, Frames: 270}); last != want {
		t.Errorf("last progress %+v, want %+v", last, want)
	}
	t.Logf("%d progress calls", len(calls))
}
