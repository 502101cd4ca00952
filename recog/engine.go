package recog

import (
	"context"
	"fmt"
	"image"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/ultraface"
)

// Engine is one detector worker's loaded models: it finds faces and
// describes them. Engines are not for concurrent use; a Pool lends them.
type Engine interface {
	// Detect finds and describes the faces on one keyframe.
	Detect(in Input) ([]Detection, error)
	// FacesInPhoto finds and describes every face in an image file (for
	// enrolling known people).
	FacesInPhoto(path string, maxPixels int) ([]Detection, error)
	// NeedsJPEG tells the pipeline to hand Detect a JPEG of the frame.
	NeedsJPEG() bool
	// Coverage says where Detect on a w x h keyframe with this Tile
	// (described or not) looked: whether it would have found a face with
	// a given box. nil means everywhere. A tracker counts a miss, and stops
	// following a new face backwards, only where the detector looked.
	Coverage(w, h, tile int, described bool) func(box image.Rectangle) bool
	// Warm waits for what the engine loads in the background (a CNN
	// engine's dlib models), so that a live source starts its clock with
	// every model there.
	Warm(ctx context.Context) error
	Close()
}

// Input is a keyframe as Detect takes it.
type Input struct {
	Frame     gocv.Mat // BGR, full resolution
	JPEG      []byte   // the frame resized by JPEGScale, for engines that NeedsJPEG
	JPEGScale float64
	// Describe asks for descriptors; without it an engine may return
	// boxes only (Described false). HOG always describes.
	Describe bool
	// Tile is the turn of a detector that looks at small faces tile by
	// tile (ultraface.Plan.Turn, or Plan.Described with Describe): 0 looks
	// everywhere.
	Tile int
}

// EnrollVersion changes whenever FacesInPhoto would find or describe a
// known photo's faces differently, so that cached descriptors are redone.
// 2: the CNN engines describe photos from their pixels, not a JPEG of them.
const EnrollVersion = 2

// The detectors vidtag offers.
const (
	UltraFace = "ultraface" // CNN: profiles and 3/4 views too; dlib describes its boxes
	HOGName   = "hog"       // dlib's HOG through go-face: frontal faces only
)

// Detectors lists the valid --detector values, the default first.
var Detectors = []string{UltraFace, HOGName}

// Loader returns a function that loads one engine of the named detector
// from the models in dir; minFace is the smallest face (px) a CNN engine
// looks for in video frames, and cache is where CNN engines keep dlib's
// decoded HOG detector ("" nowhere: decode it every time).
func Loader(dir, detector, cache string, minFace int) (func() (Engine, error), error) {
	switch detector {
	case UltraFace:
		// One OpenCV thread per engine: the pool already runs an engine
		// per core, and a network spreading over every core as well only
		// adds contention.
		ultraface.SetThreads(1)
		dlib := &sharedDlib{dir: dir, cache: cache}
		return func() (Engine, error) {
			e, err := newCNN(filepath.Join(dir, models.UltraFace), dlib, minFace)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return e, nil
		}, nil
	case HOGName:
		return func() (Engine, error) {
			e, err := NewHOG(dir)
			if err != nil {
				return nil, err
			}
			return e, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown detector %q (want one of %v)", detector, Detectors)
}
