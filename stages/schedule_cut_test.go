package stages

import (
	"context"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// world is a smooth random landscape, larger than a frame, that synthetic
// shots look at (a window of it, panned, faded, or another world: a cut).
func world(seed int) gocv.Mat {
	coarse := gocv.NewMatWithSize(27, 48, gocv.MatTypeCV8UC3) // features about 20 px across
	defer coarse.Close()
	gocv.SetRNGSeed(seed)
	gocv.RandU(&coarse, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	w := gocv.NewMat()
	gocv.Resize(coarse, &w, image.Pt(960, 540), 0, 0, gocv.InterpolationCubic)
	return w
}

// shot says what frame i shows: which world, the window's left edge, and
// a brightness factor.
type shot func(i int) (world, x int, gain float64)

// view renders frame i of a shot as a 320x180 BGR frame.
func view(worlds []gocv.Mat, s shot, i int) gocv.Mat {
	w, x, gain := s(i)
	win := worlds[w].Region(image.Rect(x, 100, x+320, 280))
	defer win.Close()
	m := gocv.NewMat()
	win.ConvertToWithParams(&m, gocv.MatTypeCV8UC3, float32(gain), 0)
	return m
}

// TestScheduleCuts: a hard cut between two shots is found; slow changes
// within a shot (a pan, a fade, sensor noise) are not, at the default
// threshold; the threshold decides (0 disables); the cut is a described
// full keyframe, and the keyframe cadence and tile turns start over there.
func TestScheduleCuts(t *testing.T) {
	noMatsLeft(t)
	worlds := []gocv.Mat{world(11), world(12)}
	defer worlds[0].Close()
	defer worlds[1].Close()
	still := func(int) (int, int, float64) { return 0, 300, 1 }
	cutAt10 := func(i int) (int, int, float64) {
		if i < 10 {
			return 0, 300, 1
		}
		return 1, 300, 1
	}
	tests := []struct {
		name      string
		threshold float64
		shot      shot
		noise     float64 // sensor noise amplitude added to every frame
		cuts      []int
	}{
		{"still", 20, still, 0, nil},
		{"still with sensor noise", 20, still, 12, nil},
		{"hard cut", 20, cutAt10, 0, []int{10}},
		{"hard cut with sensor noise", 20, cutAt10, 12, []int{10}},
		{"hard cut, threshold 0: disabled", 0, cutAt10, 0, nil},
		{"hard cut, threshold above any change", 250, cutAt10, 0, nil},
		{"slow pan, 3 px a frame", 20, func(i int) (int, int, float64) { return 0, 100 + 3*i, 1 }, 0, nil},
		{"a 40 px jump and back: cuts both ways (too fast to be a pan)", 20, func(i int) (int, int, float64) {
			if i == 10 {
				return 0, 340, 1
			}
			return 0, 300, 1
		}, 0, []int{10, 11}},
		{"fade to black over 20 frames", 20, func(i int) (int, int, float64) { return 0, 300, max(0, 1-float64(i)/20) }, 0, nil},
		{"fade out, then a cut from black", 20, func(i int) (int, int, float64) {
			if i < 12 {
				return 0, 300, max(0, 1-float64(i)/10)
			}
			return 1, 300, 1
		}, 0, []int{12}},
		{"two cuts", 20, func(i int) (int, int, float64) { return (i / 8) % 2, 300, 1 }, 0, []int{8, 16}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSchedule(5, tt.threshold)
			s.DescribeEvery = 100
			defer s.Close()
			want := map[int]bool{}
			for _, c := range tt.cuts {
				want[c] = true
			}
			noise := gocv.NewMatWithSize(180, 320, gocv.MatTypeCV8UC3)
			defer noise.Close()
			gocv.SetRNGSeed(5)
			lastKey, turn := 0, 0
			for i := 0; i < 24; i++ {
				m := view(worlds, tt.shot, i)
				if tt.noise > 0 {
					// fresh noise every frame, as a sensor's
					gocv.RandU(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(tt.noise, tt.noise, tt.noise, 0))
					gocv.Add(m, noise, &m)
				}
				f := &Frame{Seq: i, Mat: m}
				if err := s.Process(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				m.Close()
				if f.Cut != want[i] {
					t.Errorf("frame %d: cut %v, want %v", i, f.Cut, want[i])
				}
				// The cadence restarts at a shot: keyframes at the
				// cut and every 5 frames after it, tile turns from 1.
				wantKey := i == 0 || want[i] || i-lastKey == 5
				if f.Key != wantKey {
					t.Errorf("frame %d: key %v, want %v", i, f.Key, wantKey)
				}
				wantTile := 0
				if f.Key {
					lastKey, turn = i, turn+1
					if i == 0 || want[i] {
						turn = 0
					}
					wantTile = turn
				}
				if f.Describe != (i == 0 || want[i]) || f.Tile != wantTile {
					t.Errorf("frame %d: describe %v tile %d, want %v %d", i, f.Describe, f.Tile, i == 0 || want[i], wantTile)
				}
			}
		})
	}
}

// TestScheduleCadenceEdges: Every below 1 means every frame, and a
// DescribeEvery of 0 or 1 describes every keyframe.
func TestScheduleCadenceEdges(t *testing.T) {
	noMatsLeft(t)
	for _, tt := range []struct{ every, describe int }{{0, 0}, {-3, 1}, {1, 0}} {
		t.Run(fmt.Sprintf("every %d describe %d", tt.every, tt.describe), func(t *testing.T) {
			s := NewSchedule(tt.every, 0)
			s.DescribeEvery = tt.describe
			defer s.Close()
			m := gocv.NewMatWithSize(36, 64, gocv.MatTypeCV8UC3)
			defer m.Close()
			for i := 0; i < 6; i++ {
				f := &Frame{Seq: i, Mat: m}
				if err := s.Process(context.Background(), f); err != nil {
					t.Fatal(err)
				}
				// The first looks everywhere, the others take turns
				// (and look at the whole frame: they are described).
				if !f.Key || !f.Describe || f.Tile != i || f.Cut {
					t.Errorf("frame %d: key %v describe %v tile %d cut %v; want a described keyframe of turn %d, no cut", i, f.Key, f.Describe, f.Tile, f.Cut, i)
				}
			}
		})
	}
}
