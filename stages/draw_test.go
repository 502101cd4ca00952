package stages

import (
	"context"
	"image"
	"image/color"
	"testing"

	"gocv.io/x/gocv"
)

func pixel(m gocv.Mat, x, y int) color.RGBA {
	v := m.GetVecbAt(y, x) // BGR
	return color.RGBA{R: v[2], G: v[1], B: v[0], A: 255}
}

func TestDrawBoxesAndNameBars(t *testing.T) {
	noMatsLeft(t)
	tests := []struct {
		name   string
		w, h   int
		face   Face
		colour color.RGBA
	}{
		{"known at 360p", 640, 360, Face{Box: image.Rect(200, 100, 280, 180), Label: "Lin-Manuel Miranda", Known: true}, KnownColour},
		{"unknown at 360p", 640, 360, Face{Box: image.Rect(200, 100, 280, 180), Label: "Unknown"}, UnknownColour},
		{"known at 1080p near the right edge", 1920, 1080, Face{Box: image.Rect(1800, 300, 1910, 410), Label: "Lin-Manuel Miranda", Known: true}, KnownColour},
		{"at the top edge the bar goes below", 640, 360, Face{Box: image.Rect(10, 0, 90, 80), Label: "Ann", Known: true}, KnownColour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 40, 40, 0), tt.h, tt.w, gocv.MatTypeCV8UC3)
			defer m.Close()
			f := &Frame{Mat: m, Faces: []Face{tt.face}}
			d := NewDraw(tt.h)
			if err := d.Process(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			b := tt.face.Box
			if got := pixel(m, b.Min.X, (b.Min.Y+b.Max.Y)/2); got != tt.colour {
				t.Errorf("box edge is %v, want %v", got, tt.colour)
			}
			// The bar: a run of the colour with white text in it, inside the frame.
			barY := b.Min.Y - 3
			if barY < 0 {
				barY = b.Max.Y + 3
			}
			coloured, white, lastX := 0, 0, -1
			for x := 0; x < tt.w; x++ {
				switch pixel(m, x, barY) {
				case tt.colour:
					coloured++
					lastX = x
				case textColour:
					white++
				}
			}
			if coloured < 20 {
				t.Errorf("no name bar at y=%d", barY)
			}
			if lastX < 0 || lastX >= tt.w {
				t.Errorf("bar ends at x=%d", lastX)
			}
			// The whole label fits: the bar is as wide as the text needs.
			size := gocv.GetTextSize(d.text(tt.face.Label), d.font, d.fontScale, d.fontThick)
			if coloured+white < size.X {
				t.Errorf("bar is %d px wide, the text needs %d: clipped", coloured+white, size.X)
			}
			if tt.h == 1080 && d.thick < 3 {
				t.Errorf("line width %d at 1080p, want it to scale with the frame", d.thick)
			}
		})
	}
}

func TestDrawableText(t *testing.T) {
	d := NewDraw(360)
	for in, want := range map[string]string{"José Martí": "Jose Marti", "Zoë": "Zoe", "李小龙": "???", "Ann": "Ann"} {
		if got := d.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDrawBlurredFaces: a blurred face gets neither box nor name bar (they
// would give away and sharpen what the blur hides) unless BlurredLabels is
// set.
func TestDrawBlurredFaces(t *testing.T) {
	noMatsLeft(t)
	for _, labels := range []bool{false, true} {
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(40, 40, 40, 0), 360, 640, gocv.MatTypeCV8UC3)
		face := Face{Box: image.Rect(200, 100, 280, 180), Label: "Unknown", Blurred: true}
		d := NewDraw(360)
		d.BlurredLabels = labels
		if err := d.Process(context.Background(), &Frame{Mat: m, Faces: []Face{face}}); err != nil {
			t.Fatal(err)
		}
		got := pixel(m, 200, 140)
		want := color.RGBA{R: 40, G: 40, B: 40, A: 255}
		if labels {
			want = UnknownColour
		}
		if got != want {
			t.Errorf("BlurredLabels %v: box edge is %v, want %v", labels, got, want)
		}
		m.Close()
	}
}
