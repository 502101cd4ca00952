package stages

import (
	"context"
	"fmt"
	"math"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/recog"
)

// Convert turns each keyframe into what go-face takes (the HOG detector):
// the frame resized by Scale and encoded as JPEG (gocv encodes BGR; libjpeg
// hands dlib RGB). Other frames pass untouched. The CNN detector reads the
// frame itself and needs no Convert step.
type Convert struct {
	Scale   float64
	Quality int
	scratch gocv.Mat
}

// NewConvert makes a converter; Close it after the run.
func NewConvert(scale float64, quality int) *Convert {
	return &Convert{Scale: scale, Quality: quality, scratch: gocv.NewMat()}
}

// Process encodes keyframes.
func (c *Convert) Process(_ context.Context, f *Frame) error {
	if !f.Key {
		return nil
	}
	buf, err := recog.EncodeJPEG(f.Mat, c.Scale, c.Quality, &c.scratch)
	if err != nil {
		return fmt.Errorf("frame %d: encode JPEG: %w", f.Seq, err)
	}
	f.JPEG, f.JPEGScale = buf, c.Scale
	return nil
}

// Close frees the scratch image.
func (c *Convert) Close() { c.scratch.Close() }

// HOGMinFace is about the smallest face (reference box width, px) that
// dlib's HOG detector finds at scale 1: its scan window is 80x80 and its own
// boxes are about 20% larger than the face.
const HOGMinFace = 58

// DetectScale is the scale at which to run the detector on a w x h frame so
// that faces minFace pixels wide become findable, at most 2x, and with the
// resized frame no larger than maxPixels (the cost cap: HOG time grows with
// pixels). It returns the scale and the smallest face it will find.
func DetectScale(w, h, minFace int, maxPixels float64) (scale float64, smallest float64) {
	scale = math.Min(2, float64(HOGMinFace)/float64(max(1, minFace)))
	if maxPixels > 0 {
		scale = math.Min(scale, math.Sqrt(maxPixels/float64(w*h)))
	}
	// Round to 1/64 so equal settings give equal sizes on every machine.
	scale = math.Floor(scale*64) / 64
	return scale, HOGMinFace / scale
}

// ValidateScale rejects a scale that leaves nothing to detect.
func ValidateScale(w, h int, scale float64) error {
	if int(float64(w)*scale) < 80 || int(float64(h)*scale) < 80 {
		return fmt.Errorf("detection scale %.2f makes the %dx%d frame smaller than the detector's 80x80 window", scale, w, h)
	}
	return nil
}
