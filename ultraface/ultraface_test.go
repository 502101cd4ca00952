package ultraface

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestPlan checks where the detector looks: the whole frame alone when it
// sees faces as small as asked for, tiles otherwise, within the budget, and
// every face a tile must report lying whole inside some tile.
func TestPlan(t *testing.T) {
	tests := []struct {
		w, h, minFace int
		windows       int
		maxSmallest   float64
	}{
		{640, 360, 29, 1, 24},     // 640x480 padded: 12 px at 1/2 scale
		{640, 480, 24, 1, 24},     // already 4:3
		{360, 640, 29, 1, 32.1},   // portrait: padded at the right to 853x640
		{1280, 720, 29, 5, 29.5},  // 4 tiles at 12/29
		{1920, 1080, 29, 5, 40.5}, // 4 tiles, the budget: about 40 px
		{1920, 1080, 80, 1, 72},   // the whole frame sees 72 px faces
		{3840, 2160, 29, 5, 84},   // 4K: tiles bring 144 px down to 83
	}
	for _, tt := range tests {
		p := NewPlan(tt.w, tt.h, tt.minFace)
		if len(p.Windows) != tt.windows || p.Smallest > tt.maxSmallest {
			t.Errorf("%dx%d min %d: %d windows, smallest %.1f; want %d, <= %.1f", tt.w, tt.h, tt.minFace, len(p.Windows), p.Smallest, tt.windows, tt.maxSmallest)
		}
		if full := p.Windows[0]; full.Min != (image.Point{}) || full.Dx() < tt.w || full.Dy() < tt.h || full.Dx()*3 != full.Dy()*4 && abs(full.Dx()*3-full.Dy()*4) > 4 {
			t.Errorf("%dx%d: whole-frame window %v is not the frame padded to 4:3", tt.w, tt.h, full)
		}
		if len(p.Windows) == 1 {
			continue
		}
		// Every TileMaxFace square anywhere in the frame fits in a tile.
		side := int(p.TileMaxFace)
		for y := 0; y+side <= tt.h; y += 7 {
			for x := 0; x+side <= tt.w; x += 7 {
				face := image.Rect(x, y, x+side, y+side)
				inside := false
				for _, w := range p.Windows[1:] {
					if face.In(w) {
						inside = true
						break
					}
				}
				if !inside {
					t.Fatalf("%dx%d: a %d px face at %v lies in no tile of %v", tt.w, tt.h, side, face.Min, p.Windows)
				}
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestPlanTurns: the turns between full keyframes look at the whole frame
// (odd turns) or at one tile (even turns, in rotation), one pass each;
// Sees says which faces a turn would find.
func TestPlanTurns(t *testing.T) {
	p := NewPlan(1280, 720, 29)
	if p.Tiles() != 4 {
		t.Fatalf("%d tiles, want 4", p.Tiles())
	}
	if q := p.Turn(0); len(q.Windows) != 5 || !q.Whole {
		t.Errorf("turn 0: %d windows, want all 5", len(q.Windows))
	}
	for turn := 1; turn <= 10; turn++ {
		q := p.Turn(turn)
		want := p.Windows[0]
		if turn%2 == 0 {
			want = p.Windows[1+(turn/2-1)%4]
		}
		if len(q.Windows) != 1 || q.Windows[0] != want || q.Whole != (turn%2 == 1) {
			t.Errorf("turn %d: windows %v (whole %v), want %v", turn, q.Windows, q.Whole, want)
		}
	}
	big := image.Rect(600, 300, 700, 400)      // 101 px: the whole-frame pass sees it
	small := image.Rect(20, 20, 50, 50)        // 31 px in the top-left corner: tile 1 only
	small2 := image.Rect(1230, 670, 1260, 700) // bottom-right corner: tile 4 only
	tests := []struct {
		turn int
		box  image.Rectangle
		want bool
	}{
		{0, big, true}, {0, small, true}, {0, small2, true},
		{1, big, true}, {1, small, false}, {1, small2, false},
		{2, big, false}, {2, small, true}, {2, small2, false},
		{4, small, false}, {8, small2, true}, {10, small, true}, {10, big, false},
	}
	for _, tt := range tests {
		if got := p.Turn(tt.turn).Sees(tt.box); got != tt.want {
			t.Errorf("turn %d sees %v: %v, want %v", tt.turn, tt.box, got, tt.want)
		}
	}
	if whole := NewPlan(640, 360, 29); whole.Turn(3).Tiles() != 0 || !whole.Turn(2).Sees(image.Rect(0, 0, 24, 24)) {
		t.Error("a plan without tiles: every turn is the whole plan and sees faces down to its smallest")
	}
}

// TestPlanDescribed: a described keyframe after a shot's first looks at
// the whole frame and at the tile its turn would look at (the next even
// turn's on an odd one), so tiles keep their rotation; turn 0, and a plan
// without tiles, is the whole plan.
func TestPlanDescribed(t *testing.T) {
	p := NewPlan(1280, 720, 29)
	if q := p.Described(0); len(q.Windows) != 5 {
		t.Errorf("turn 0: %d windows, want all 5", len(q.Windows))
	}
	for turn := 1; turn <= 9; turn++ {
		even := turn + turn%2
		q := p.Described(turn)
		if len(q.Windows) != 2 || !q.Whole || q.Windows[0] != p.Windows[0] || q.Windows[1] != p.Turn(even).Windows[0] {
			t.Errorf("turn %d: windows %v (whole %v), want the whole frame and %v", turn, q.Windows, q.Whole, p.Turn(even).Windows)
		}
		if !q.Sees(image.Rect(600, 300, 700, 400)) {
			t.Errorf("turn %d: a face the whole-frame pass finds is not seen", turn)
		}
	}
	if whole := NewPlan(640, 360, 29); len(whole.Described(3).Windows) != 1 {
		t.Error("a plan without tiles: a described keyframe is the whole plan")
	}
}

func TestCutEdge(t *testing.T) {
	frame := image.Pt(1280, 720)
	tile := image.Rect(507, 140, 1280, 720) // cut at the left and top; the right and bottom are the frame's
	tests := []struct {
		box  image.Rectangle
		want bool
	}{
		{image.Rect(600, 300, 650, 350), false},
		{image.Rect(507, 300, 560, 350), true},    // at the cut on the left
		{image.Rect(600, 141, 650, 190), true},    // at the cut on the top
		{image.Rect(1200, 600, 1279, 719), false}, // at the frame's own corner
	}
	for _, tt := range tests {
		if got := cutEdge(tt.box, tile, frame.X, frame.Y); got != tt.want {
			t.Errorf("cutEdge(%v) = %v, want %v", tt.box, got, tt.want)
		}
	}
}

// TestDetectStills runs the network on the shared still images: every
// reference face is found (IoU >= 0.3 with the ground truth, whose boxes
// are square dlib-style ones, while UltraFace's reach from forehead to
// chin) with a score that confirms a track at once (0.93), the photo without
// a face gives none, and anything else found scores below that.
func TestDetectStills(t *testing.T) {
	d := detector(t)
	raw, err := os.ReadFile(testenv.Data(t, "groundtruth", "images.gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt map[string]struct {
		Faces []struct {
			Box [4]int `json:"box"`
		} `json:"faces"`
	}
	if err := json.Unmarshal(raw, &gt); err != nil {
		t.Fatal(err)
	}
	for name, want := range gt {
		img := gocv.IMRead(testenv.Data(t, "images", name), gocv.IMReadColor)
		found, err := d.Detect(img, NewPlan(img.Cols(), img.Rows(), 29))
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		const sure = 0.93
		matched := map[int]bool{}
		for _, w := range want.Faces {
			ref := image.Rect(w.Box[0], w.Box[1], w.Box[2], w.Box[3])
			ok := false
			for i, f := range found {
				if iou(f.Rect, ref) >= 0.3 && f.Score >= sure {
					ok, matched[i] = true, true
				}
			}
			if !ok {
				t.Errorf("%s: no sure box %v among %v", name, ref, found)
			}
		}
		for i, f := range found {
			if !matched[i] && f.Score >= sure {
				t.Errorf("%s: a sure face %v that is not in the ground truth", name, f)
			}
		}
	}
}

// detector loads the model for a test or benchmark and closes it after.
func detector(tb testing.TB) *Detector {
	tb.Helper()
	d, err := New(filepath.Join(testenv.Models(tb), "fr_detect.onnx"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(d.Close)
	return d
}

// obama1080p is the shared 1080p still; it is closed after the test.
func obama1080p(tb testing.TB) gocv.Mat {
	tb.Helper()
	img := gocv.IMRead(testenv.Data(tb, "images", "obama-1080p.jpg"), gocv.IMReadColor)
	tb.Cleanup(func() { img.Close() })
	if img.Empty() {
		tb.Fatal("cannot read obama-1080p.jpg")
	}
	return img
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}

// TestMissingModel: a missing file is an error. (A file that is not an
// ONNX network makes OpenCV abort the process, which gocv cannot catch:
// package models checks the file's sha256 before anything loads it.)
func TestMissingModel(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "none.onnx")); err == nil {
		t.Fatal("no error for a missing model")
	}
}

// TestPyramidShrinksLikeOneStep: a window shrunk from a halving of the
// frame is the one-step area shrink, give or take rounding, for the whole
// frame and a tile, on even and odd frame sizes; and a window the network
// sees at half the frame's scale or larger is read from the frame itself.
func TestPyramidShrinksLikeOneStep(t *testing.T) {
	img := obama1080p(t)
	for _, c := range []struct {
		name  string
		frame image.Point
		win   image.Rectangle
		level int
	}{
		{"1080p whole", image.Pt(1920, 1080), image.Rect(0, 0, 1920, 1080), 4},
		{"1080p tile", image.Pt(1920, 1080), image.Rect(853, 280, 1920, 1080), 2},
		{"720p tile", image.Pt(1280, 720), image.Rect(0, 0, 773, 580), 2},
		{"odd-sized whole", image.Pt(1281, 721), image.Rect(0, 0, 1281, 721), 4},
		{"640x360 whole", image.Pt(640, 360), image.Rect(0, 0, 640, 360), 2},
		{"small tile", image.Pt(1280, 720), image.Rect(0, 0, 600, 450), 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			frame := gocv.NewMat()
			defer frame.Close()
			gocv.Resize(img, &frame, c.frame, 0, 0, gocv.InterpolationArea)
			s := float64(Input.X) / float64(max(c.win.Dx(), c.win.Dy()*4/3))
			size := image.Pt(int(float64(c.win.Dx())*s+0.5), int(float64(c.win.Dy())*s+0.5))

			one, via := gocv.NewMat(), gocv.NewMat()
			defer one.Close()
			defer via.Close()
			src := frame.Region(c.win)
			gocv.Resize(src, &one, size, 0, 0, gocv.InterpolationArea)
			src.Close()

			pyr := pyramid{frame}
			defer pyr.close()
			if _, f := pyr.level(s); f != c.level {
				t.Errorf("scale %.3f: level 1/%d, want 1/%d", s, f, c.level)
			}
			pyr.shrink(c.win, s, size, &via)

			diff := gocv.NewMat()
			defer diff.Close()
			gocv.AbsDiff(one, via, &diff)
			mean := diff.Mean()
			// Measured: 0-1.8. A window one level pixel off is 1.7-7.2.
			if m := (mean.Val1 + mean.Val2 + mean.Val3) / 3; m > 2.5 {
				t.Errorf("mean difference %.2f grey levels from the one-step shrink", m)
			}
		})
	}
}
