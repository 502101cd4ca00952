package stages

import (
	"context"
	"image"

	"github.com/vidtag/vidtag/blur"
)

// Blur hides the faces its policy names (package blur): listed faces and
// unlisted ones alike, each over its box padded by blur.Scale. It marks
// each listed face Blurred, for the sidecar and the drawing, and the frame
// Blur. annotate runs it as a step between tracking and the sidecar, live
// between tracking and drawing. It is not safe for
// concurrent use; Close it after the run.
type Blur struct {
	Policy  blur.Policy
	b       *blur.Blurrer
	regions []image.Rectangle
}

// NewBlur makes the blur step.
func NewBlur(p blur.Policy, style blur.Style) *Blur {
	return &Blur{Policy: p, b: blur.New(style)}
}

// Process hides f's faces that the policy blurs. Overlapping regions are
// blurred as one (their bounding box): one blur's sharp-edged border must
// not cut across another's, through a face.
func (s *Blur) Process(_ context.Context, f *Frame) error {
	f.Blur = true
	w, h := f.Mat.Cols(), f.Mat.Rows()
	s.regions = s.regions[:0]
	for _, faces := range [][]Face{f.Faces, f.Unlisted} {
		for i := range faces {
			face := &faces[i]
			if face.Blurred = s.Policy.Blurs(face.Label, face.Known); face.Blurred {
				s.regions = append(s.regions, blur.Pad(face.Box, w, h))
			}
		}
	}
	s.regions = merge(s.regions)
	for _, r := range s.regions {
		s.b.Apply(&f.Mat, r)
	}
	return nil
}

// merge replaces overlapping rectangles by their bounding box until none
// overlap (a handful of faces: quadratic is fine).
func merge(rs []image.Rectangle) []image.Rectangle {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(rs) && !merged; i++ {
			for j := i + 1; j < len(rs); j++ {
				if rs[i].Overlaps(rs[j]) {
					rs[i] = rs[i].Union(rs[j])
					rs = append(rs[:j], rs[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return rs
}

// Close frees the scratch Mats.
func (s *Blur) Close() { s.b.Close() }
