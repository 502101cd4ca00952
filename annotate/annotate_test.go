package annotate

import (
	"strings"
	"testing"
	"time"
)

func TestEncoderPreset(t *testing.T) {
	tests := []struct {
		preset string
		w, h   int
		want   string
	}{
		{"auto", 640, 360, "veryfast"},
		{"auto", 1280, 720, "veryfast"},
		{"auto", 1920, 1080, "superfast"},
		{"auto", 3840, 2160, "superfast"},
		{"medium", 1920, 1080, "medium"},
	}
	for _, tt := range tests {
		if got := EncoderPreset(tt.preset, tt.w, tt.h); got != tt.want {
			t.Errorf("EncoderPreset(%q, %dx%d) = %q, want %q", tt.preset, tt.w, tt.h, got, tt.want)
		}
	}
}

func TestDefaultSidecar(t *testing.T) {
	for in, want := range map[string]string{"out.mp4": "out.jsonl", "a/b.c/clip.MP4": "a/b.c/clip.jsonl", "noext": "noext.jsonl"} {
		if got := DefaultSidecar(in); got != want {
			t.Errorf("DefaultSidecar(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportAndSummary(t *testing.T) {
	r := &Result{Input: "dir/clip.mp4", Frames: 300, FrameRate: 30, Duration: 10, Faces: 420, Tracks: 3,
		People: map[string]int{"Ann": 150, "Bob": 300}, Wall: 2 * time.Second}
	rep := NewReport(r)
	if rep.FPS != 150 || rep.RealTime != 5 || rep.People["Ann"].Seconds != 5 || rep.People["Bob"].Frames != 300 {
		t.Errorf("report %+v", rep)
	}
	s := r.Summary()
	for _, want := range []string{"clip.mp4: 300 frames in 2.0s (150 fps, 5.0x real time)", "420 faces in 3 tracks", ": Bob 300, Ann 150"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

// TestIndexWindow: without a video the detector's window grows to four
// keyframes per engine, within the frames the pool may have out, and
// never below FrameBudget's.
func TestIndexWindow(t *testing.T) {
	for _, tt := range []struct {
		name       string
		w, h       int
		budget     int64
		wantWindow int
	}{
		{"720p: four keyframes an engine", 1280, 720, DefaultFrameMemory, 40},
		{"4K: the pool binds", 3840, 2160, DefaultFrameMemory, 17},
		{"tiny budget keeps FrameBudget's", 3840, 2160, 10 << 20, 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			frames, window, _ := FrameBudget(tt.budget, tt.w, tt.h, 2, 5, 30)
			if got := IndexWindow(window, frames, 2, 5); got != tt.wantWindow {
				t.Errorf("IndexWindow(%d, %d frames) = %d, want %d", window, frames, got, tt.wantWindow)
			}
		})
	}
}

// TestFrameBudget: the frames in flight follow the byte budget, not frame
// size times window; the look-ahead shrinks only when the budget is short,
// and the pipeline's floor is always kept.
func TestFrameBudget(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name                      string
		budget                    int64
		w, h                      int
		frames, window, lookahead int
		maxBytes                  int64 // frames * frame size, at most (0: unchecked)
	}{
		{"640x360 fits whole", DefaultFrameMemory, 640, 360, 922, 36, 30, 0},
		{"1080p fits whole", DefaultFrameMemory, 1920, 1080, 102, 36, 30, 0},
		{"4K: budget binds, look-ahead shrinks", DefaultFrameMemory, 3840, 2160, 25, 8, 15, DefaultFrameMemory},
		{"zero means the default", 0, 3840, 2160, 25, 8, 15, DefaultFrameMemory},
		{"tiny budget keeps the floor", 10 * mib, 3840, 2160, 10, 8, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, window, lookahead := FrameBudget(tt.budget, tt.w, tt.h, 2, 30, 30)
			if frames != tt.frames || window != tt.window || lookahead != tt.lookahead {
				t.Errorf("FrameBudget = %d frames, window %d, look-ahead %d; want %d, %d, %d",
					frames, window, lookahead, tt.frames, tt.window, tt.lookahead)
			}
			if tt.maxBytes > 0 && int64(frames*tt.w*tt.h*3) > tt.maxBytes {
				t.Errorf("%d frames of %dx%d exceed the budget", frames, tt.w, tt.h)
			}
			if frames < lookahead+2*2+6 {
				t.Errorf("%d frames cannot hold a look-ahead of %d and keep the pipeline moving", frames, lookahead)
			}
		})
	}
}
