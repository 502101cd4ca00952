package stages

import (
	"context"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/track"
)

// TestNameKeepsUnconfirmedForTheBlur: a face whose track is not confirmed
// by the time its frame leaves the tracker is not listed (nor drawn), but
// it stays on the frame, in Unlisted, for the blur.
func TestNameKeepsUnconfirmedForTheBlur(t *testing.T) {
	noMatsLeft(t)
	sure, unsure, late := &track.Track{ID: 1, Confirmed: true}, &track.Track{ID: 2}, &track.Track{ID: 3, Confirmed: true}
	f := &Frame{
		Faces:    []Face{{Box: image.Rect(0, 0, 9, 9), Track: 1, track: sure}, {Box: image.Rect(20, 0, 29, 9), Track: 2, track: unsure}},
		Unlisted: []Face{{Box: image.Rect(40, 0, 49, 9), Track: 3, track: late}},
	}
	name(f)
	if len(f.Faces) != 1 || f.Faces[0].Track != 1 {
		t.Fatalf("listed %+v, want track 1 only", f.Faces)
	}
	if len(f.Unlisted) != 2 || f.Unlisted[0].Track != 3 || f.Unlisted[1].Track != 2 {
		t.Fatalf("unlisted %+v, want tracks 3 and 2", f.Unlisted)
	}
	for _, face := range append(f.Faces, f.Unlisted...) {
		if face.track != nil || face.Label == "" {
			t.Errorf("track %d: not named (%q) or still holds its track", face.Track, face.Label)
		}
	}
}

// TestBlurStep: the step hides exactly the faces its policy names, listed
// or not, marks them, and leaves a spared face's pixels alone.
func TestBlurStep(t *testing.T) {
	noMatsLeft(t)
	m := gocv.NewMatWithSize(360, 640, gocv.MatTypeCV8UC3)
	gocv.RandU(&m, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(256, 256, 256, 0))
	orig := m.Clone()
	defer orig.Close()
	f := &Frame{Mat: m,
		Faces: []Face{
			{Box: image.Rect(50, 50, 99, 99), Label: "Ann", Known: true},
			{Box: image.Rect(250, 50, 299, 99), Label: "Unknown"},
		},
		Unlisted: []Face{{Box: image.Rect(450, 50, 499, 99), Label: "Unknown"}},
	}
	defer f.Release()
	s := NewBlur(blur.Policy{Mode: blur.Unknown}, blur.Solid)
	defer s.Close()
	if err := s.Process(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	if !f.Blur || f.Faces[0].Blurred || !f.Faces[1].Blurred || !f.Unlisted[0].Blurred {
		t.Fatalf("marks: frame %v, faces %v %v, unlisted %v", f.Blur, f.Faces[0].Blurred, f.Faces[1].Blurred, f.Unlisted[0].Blurred)
	}
	for _, face := range append(f.Faces, f.Unlisted...) {
		r := blur.Pad(face.Box, 640, 360)
		a, b := f.Mat.Region(r), orig.Region(r)
		diff := gocv.NewMat()
		gocv.AbsDiff(a, b, &diff)
		changed := diff.Sum().Val1 > 0
		a.Close()
		b.Close()
		diff.Close()
		if changed != face.Blurred {
			t.Errorf("%s at %v: pixels changed %v, blurred %v", face.Label, face.Box, changed, face.Blurred)
		}
	}
}

func TestMergeOverlappingRegions(t *testing.T) {
	tests := []struct {
		name string
		in   []image.Rectangle
		want []image.Rectangle
	}{
		{"apart", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(10, 0, 20, 10)}, []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(10, 0, 20, 10)}},
		{"overlapping", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(5, 5, 20, 20)}, []image.Rectangle{image.Rect(0, 0, 20, 20)}},
		// The union of the first two reaches the third.
		{"chained", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(30, 0, 40, 10), image.Rect(8, 0, 12, 30), image.Rect(11, 25, 32, 28)},
			[]image.Rectangle{image.Rect(0, 0, 40, 30)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := merge(append([]image.Rectangle(nil), tt.in...))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("merge(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
