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
