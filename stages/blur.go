package stages

import (
	"context"

	"github.com/vidtag/vidtag/blur"
)

// Blur hides the faces its policy names (package blur): listed faces and
// unlisted ones alike, each over its box padded by blur.Scale. It marks
// each listed face Blurred, for the sidecar and the drawing, and the frame
// Blur. annotate runs it as a step between tracking and the sidecar; live
// calls Process on each frame before drawing. It is not safe for
// concurrent use; Close it after the run.
type Blur struct {
	Policy blur.Policy
	b      *blur.Blurrer
}

// NewBlur makes the blur step.
func NewBlur(p blur.Policy, style blur.Style) *Blur {
	return &Blur{Policy: p, b: blur.New(style)}
}

// Process hides f's faces that the policy blurs.
func (s *Blur) Process(_ context.Context, f *Frame) error {
	f.Blur = true
	w, h := f.Mat.Cols(), f.Mat.Rows()
	for _, faces := range [][]Face{f.Faces, f.Unlisted} {
		for i := range faces {
			face := &faces[i]
			if face.Blurred = s.Policy.Blurs(face.Label, face.Known); face.Blurred {
				s.b.Apply(&f.Mat, blur.Pad(face.Box, w, h))
			}
		}
	}
	return nil
}

// Close frees the scratch Mats.
func (s *Blur) Close() { s.b.Close() }
