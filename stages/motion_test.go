package stages

import (
	"image"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// texturedPatch is a size x size patch of blurred noise: texture that
// optical flow can lock on, as a face's features are.
func texturedPatch(size int, seed float64) gocv.Mat {
	noise := gocv.NewMatWithSize(size, size, gocv.MatTypeCV8UC3)
	defer noise.Close()
	gocv.SetRNGSeed(int(seed))
	gocv.RandU(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(255, 255, 255, 0))
	out := gocv.NewMat()
	gocv.GaussianBlur(noise, &out, image.Pt(5, 5), 0, 0, gocv.BorderReflect)
	return out
}

// scene is a w x h flat grey frame with each patch pasted at its box
// (resized to the box when sizes differ; a box partly outside the frame is
// clipped).
type pasted struct {
	patch gocv.Mat
	at    image.Rectangle
}

func scene(w, h int, patches ...pasted) gocv.Mat {
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 90, 90, 0), h, w, gocv.MatTypeCV8UC3)
	for _, p := range patches {
		src := p.patch
		if p.at.Dx() != src.Cols() || p.at.Dy() != src.Rows() {
			r := gocv.NewMat()
			defer r.Close()
			gocv.Resize(src, &r, p.at.Size(), 0, 0, gocv.InterpolationLinear)
			src = r
		}
		in := p.at.Intersect(image.Rect(0, 0, w, h))
		from := src.Region(in.Sub(p.at.Min))
		to := m.Region(in)
		from.CopyTo(&to)
		from.Close()
		to.Close()
	}
	return m
}

// TestFlowMove: a textured box shifted by a known amount moves by that
// amount (within a pixel, also on a frame the flow halves), and scales
// with its content; a box on flat texture, on a patch that vanishes or is
// covered by another, or that leaves the frame, is reported lost, each box
// on its own.
func TestFlowMove(t *testing.T) {
	noMatsLeft(t)
	face := texturedPatch(64, 1)
	defer face.Close()
	other := texturedPatch(64, 2)
	defer other.Close()
	box := image.Rect(200, 150, 264, 214)
	flat := image.Rect(40, 40, 104, 104) // nothing there in either frame

	tests := []struct {
		name     string
		w, h     int
		from, to []pasted
		boxes    []image.Rectangle
		want     []image.Rectangle // nil entry: lost
		tol      float64           // pixels, per corner
	}{
		{"still", 480, 360, []pasted{{face, box}}, []pasted{{face, box}},
			[]image.Rectangle{box}, []image.Rectangle{box}, 1},
		{"right 5", 480, 360, []pasted{{face, box}}, []pasted{{face, box.Add(image.Pt(5, 0))}},
			[]image.Rectangle{box}, []image.Rectangle{box.Add(image.Pt(5, 0))}, 1},
		{"up 7", 480, 360, []pasted{{face, box}}, []pasted{{face, box.Add(image.Pt(0, -7))}},
			[]image.Rectangle{box}, []image.Rectangle{box.Add(image.Pt(0, -7))}, 1},
		{"left 9 down 6", 480, 360, []pasted{{face, box}}, []pasted{{face, box.Add(image.Pt(-9, 6))}},
			[]image.Rectangle{box}, []image.Rectangle{box.Add(image.Pt(-9, 6))}, 1},
		// a fast move, about the most a point can go between two frames
		{"right 40 up 12", 480, 360, []pasted{{face, box}}, []pasted{{face, box.Add(image.Pt(40, -12))}},
			[]image.Rectangle{box}, []image.Rectangle{box.Add(image.Pt(40, -12))}, 1},
		// 1080 rows: the flow runs on a half-size image
		{"halved frame, right 12 down 8", 1920, 1080,
			[]pasted{{face, image.Rect(800, 500, 928, 628)}}, []pasted{{face, image.Rect(812, 508, 940, 636)}},
			[]image.Rectangle{image.Rect(800, 500, 928, 628)}, []image.Rectangle{image.Rect(812, 508, 940, 636)}, 1.5},
		{"grows 20%", 480, 360, []pasted{{face, box}}, []pasted{{face, image.Rect(194, 144, 271, 221)}},
			[]image.Rectangle{box}, []image.Rectangle{image.Rect(194, 144, 271, 221)}, 2},
		{"shrinks 20%", 480, 360, []pasted{{face, box}}, []pasted{{face, image.Rect(206, 156, 257, 207)}},
			[]image.Rectangle{box}, []image.Rectangle{image.Rect(206, 156, 257, 207)}, 2},
		{"flat region", 480, 360, []pasted{{face, box}}, []pasted{{face, box}},
			[]image.Rectangle{flat}, []image.Rectangle{{}}, 0},
		{"vanishes", 480, 360, []pasted{{face, box}}, nil,
			[]image.Rectangle{box}, []image.Rectangle{{}}, 0},
		{"covered by another", 480, 360, []pasted{{face, box}}, []pasted{{other, box}},
			[]image.Rectangle{box}, []image.Rectangle{{}}, 0},
		// still in the frame by more than half: followed
		{"at the edge", 480, 360, []pasted{{face, image.Rect(400, 150, 464, 214)}}, []pasted{{face, image.Rect(420, 150, 484, 214)}},
			[]image.Rectangle{image.Rect(400, 150, 464, 214)}, []image.Rectangle{image.Rect(420, 150, 484, 214)}, 1},
		// two thirds out: left
		{"leaves the frame", 480, 360, []pasted{{face, image.Rect(420, 150, 484, 214)}}, []pasted{{face, image.Rect(460, 150, 524, 214)}},
			[]image.Rectangle{image.Rect(420, 150, 484, 214)}, []image.Rectangle{{}}, 0},
		{"one followed, one lost", 480, 360,
			[]pasted{{face, box}, {other, image.Rect(20, 250, 84, 314)}}, []pasted{{face, box.Add(image.Pt(4, 3))}},
			[]image.Rectangle{box, image.Rect(20, 250, 84, 314)}, []image.Rectangle{box.Add(image.Pt(4, 3)), {}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := NewFlow(tt.w, tt.h)
			defer fl.Close()
			a, b := scene(tt.w, tt.h, tt.from...), scene(tt.w, tt.h, tt.to...)
			defer a.Close()
			defer b.Close()
			ga, gb := gocv.NewMat(), gocv.NewMat()
			defer ga.Close()
			defer gb.Close()
			fl.Prepare(&Frame{Mat: a}, &ga)
			fl.Prepare(&Frame{Mat: b}, &gb)
			got, ok := fl.Move(ga, gb, tt.boxes)
			for i, want := range tt.want {
				lost := want == image.Rectangle{}
				switch {
				case lost && ok[i]:
					t.Errorf("box %d: followed to %v, want lost", i, got[i])
				case !lost && !ok[i]:
					t.Errorf("box %d: lost, want %v", i, want)
				case !lost && (cornerOff(got[i].Min, want.Min) > tt.tol || cornerOff(got[i].Max, want.Max) > tt.tol):
					t.Errorf("box %d: moved to %v, want %v (±%.1f px)", i, got[i], want, tt.tol)
				}
			}
			// Backwards works too.
			if len(tt.boxes) == 1 && tt.want[0] != (image.Rectangle{}) && tt.w == 480 {
				back, ok := fl.Move(gb, ga, tt.want)
				if !ok[0] || cornerOff(back[0].Min, tt.boxes[0].Min) > tt.tol || cornerOff(back[0].Max, tt.boxes[0].Max) > tt.tol {
					t.Errorf("backwards: %v (followed %v), want %v", back[0], ok[0], tt.boxes[0])
				}
			}
		})
	}
}

func cornerOff(a, b image.Point) float64 {
	return math.Hypot(float64(a.X-b.X), float64(a.Y-b.Y))
}

// TestFlowMoveNothing: no boxes, or an empty image, give nothing and do
// not crash.
func TestFlowMoveNothing(t *testing.T) {
	noMatsLeft(t)
	fl := NewFlow(320, 240)
	defer fl.Close()
	m := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8U)
	defer m.Close()
	if got, ok := fl.Move(m, m, nil); len(got) != 0 || len(ok) != 0 {
		t.Errorf("no boxes: %v %v", got, ok)
	}
	empty := gocv.NewMat()
	defer empty.Close()
	if _, ok := fl.Move(empty, m, []image.Rectangle{image.Rect(0, 0, 40, 40)}); ok[0] {
		t.Error("a box followed from an empty image")
	}
}
