package recog

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	face "github.com/Kagami/go-face"
	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/cvlibs"
)

// Descriptor is a face's 128-d embedding; faces of one person lie within
// about 0.6 of each other in Euclidean distance.
type Descriptor = face.Descriptor

// Detection is one face found in an image.
type Detection struct {
	// Box is in pixels of the unscaled image, dlib style: right and bottom
	// are inclusive.
	Box        image.Rectangle
	Descriptor Descriptor
	// Described says Descriptor can be trusted to name the face: false for
	// faces turned too far from the camera, or too small, for dlib's model
	// (their descriptors lie near strangers').
	Described bool
	// Score is the detector's confidence (0-1); NaN when it gives none
	// (HOG through go-face).
	Score float32
}

// HOG is the dlib detector path: one go-face Recognizer, which finds
// frontal faces with HOG in a JPEG and describes them. It is not for
// concurrent use.
type HOG struct {
	rec *face.Recognizer
}

// NewHOG loads the models in dir (about 0.4 s and 100 MB).
func NewHOG(dir string) (*HOG, error) {
	rec, err := face.NewRecognizer(dir)
	if err != nil {
		return nil, fmt.Errorf("load dlib models from %s: %w", dir, err)
	}
	return &HOG{rec: rec}, nil
}

// Close frees the models.
func (e *HOG) Close() { e.rec.Close() }

// NeedsJPEG is true: go-face reads only JPEG.
func (e *HOG) NeedsJPEG() bool { return true }

// Coverage is everywhere: HOG looks at the whole frame at one scale.
func (e *HOG) Coverage(w, h, tile int, described bool) func(image.Rectangle) bool { return nil }

// Warm has nothing to wait for: NewHOG loads every model.
func (e *HOG) Warm(context.Context) error { return nil }

// Detect finds the faces in in.JPEG.
func (e *HOG) Detect(in Input) ([]Detection, error) {
	if in.JPEG == nil {
		return nil, errors.New("recog: the HOG detector needs a JPEG")
	}
	return e.Recognize(in.JPEG, in.JPEGScale)
}

// Recognize finds the faces in a JPEG that was scaled by scale from the
// original image, and returns their boxes in the original's pixels.
func (e *HOG) Recognize(jpeg []byte, scale float64) ([]Detection, error) {
	faces, err := e.rec.Recognize(jpeg)
	if err != nil {
		return nil, err
	}
	out := make([]Detection, len(faces))
	for i, f := range faces {
		out[i] = Detection{Box: unscale(f.Rectangle, scale), Descriptor: f.Descriptor, Described: true, Score: float32(math.NaN())}
	}
	return out, nil
}

func unscale(r image.Rectangle, s float64) image.Rectangle {
	if s == 1 {
		return r
	}
	f := func(v int) int { return int(math.Round(float64(v) / s)) }
	return image.Rect(f(r.Min.X), f(r.Min.Y), f(r.Max.X), f(r.Max.Y))
}

// EncodeJPEG resizes img by scale (area averaging when shrinking, bilinear
// when enlarging) and encodes it as JPEG for Recognize. scratch holds the
// resized image between calls so that no Mat is allocated per frame; it may
// be nil when scale is 1. The caller closes the returned buffer.
func EncodeJPEG(img gocv.Mat, scale float64, quality int, scratch *gocv.Mat) (*gocv.NativeByteBuffer, error) {
	if img.Empty() {
		return nil, errors.New("recog: empty image")
	}
	if err := cvlibs.Need(cvlibs.Imgcodecs); err != nil {
		return nil, err
	}
	src := img
	if scale != 1 {
		resizeBy(img, scale, scratch)
		src = *scratch
	}
	return gocv.IMEncodeWithParams(gocv.JPEGFileExt, src, []int{gocv.IMWriteJpegQuality, quality})
}

// resizeBy resizes img by scale into dst (a copy at scale 1): area
// averaging when shrinking, bilinear when enlarging.
func resizeBy(img gocv.Mat, scale float64, dst *gocv.Mat) {
	interp := gocv.InterpolationLinear
	if scale < 1 {
		interp = gocv.InterpolationArea
	}
	gocv.Resize(img, dst, image.Point{}, scale, scale, interp)
}
