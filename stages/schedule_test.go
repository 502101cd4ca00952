package stages

import (
	"context"
	"testing"

	"gocv.io/x/gocv"
)

// TestScheduleKeyframesAndDescriptions: keyframes every Every frames and at
// cuts; of those, descriptions at the first, at cuts, and at the first
// keyframe DescribeEvery frames after the last description.
func TestScheduleKeyframesAndDescriptions(t *testing.T) {
	noMatsLeft(t)
	tests := []struct {
		name            string
		every, describe int
		cuts            map[int]bool // frames that start a new shot
		wantKey         string       // one character per frame: '.' none, 'k' keyframe, 'D' described keyframe
	}{
		{"every frame described", 1, 1, nil, "DDDDDD"},
		{"hog cadence", 30, 1, nil, "D" + dots(29) + "D" + dots(9)},
		{"cnn cadence", 5, 10, nil, "D....k....D....k....D"},
		{"describe cadence not a multiple", 4, 10, nil, "D...k...k...D...k...k"},
		{"a cut describes at once", 5, 10, map[int]bool{7: true}, "D....k.D....k....D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSchedule(tt.every, 20)
			s.DescribeEvery = tt.describe
			defer s.Close()
			got := make([]byte, len(tt.wantKey))
			grey := 0.0
			for i := range got {
				if tt.cuts[i] { // a new shot: every pixel changes
					grey = 255 - grey
				}
				f := &Frame{Seq: i, Mat: gocv.NewMatWithSizeFromScalar(gocv.NewScalar(grey, grey, grey, 0), 36, 64, gocv.MatTypeCV8UC3)}
				if err := s.Process(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				f.Mat.Close()
				if f.Cut != tt.cuts[i] {
					t.Fatalf("frame %d: cut %v, want %v", i, f.Cut, tt.cuts[i])
				}
				switch {
				case f.Describe && !f.Key:
					t.Fatalf("frame %d: described but not a keyframe", i)
				case f.Describe:
					got[i] = 'D'
				case f.Key:
					got[i] = 'k'
				default:
					got[i] = '.'
				}
			}
			if string(got) != tt.wantKey {
				t.Errorf("got  %s\nwant %s", got, tt.wantKey)
			}
		})
	}
}

func dots(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '.'
	}
	return string(b)
}

// TestScheduleTileTurns: the first keyframe looks everywhere (tile 0); the
// keyframes after it take turns 1, 2, 3..., described ones too (they also
// look at the whole frame: ultraface.Plan.Described), so that every tile
// gets its turn; other frames none.
func TestScheduleTileTurns(t *testing.T) {
	noMatsLeft(t)
	s := NewSchedule(5, 20)
	s.DescribeEvery = 30
	defer s.Close()
	want := map[int]int{0: 0, 5: 1, 10: 2, 15: 3, 20: 4, 25: 5, 30: 6, 35: 7, 40: 8}
	described := map[int]bool{0: true, 30: true}
	for i := 0; i <= 40; i++ {
		f := &Frame{Seq: i, Mat: gocv.NewMatWithSizeFromScalar(gocv.NewScalar(9, 9, 9, 0), 36, 64, gocv.MatTypeCV8UC3)}
		if err := s.Process(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		f.Mat.Close()
		if turn, key := want[i]; f.Key != key || f.Tile != turn || f.Describe != described[i] {
			t.Errorf("frame %d: key %v tile %d described %v; want key %v tile %d described %v", i, f.Key, f.Tile, f.Describe, key, turn, described[i])
		}
	}
}
