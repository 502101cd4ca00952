package stages

import (
	"image"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/track"
)

// Frame is one decoded video frame and everything learned about it.
type Frame struct {
	Seq int           // decode order, from 0
	PTS time.Duration // presentation time on the stream's clock, from its first frame
	Mat gocv.Mat      // BGR pixels, full resolution

	Cut  bool // a new shot starts here
	Key  bool // the detector runs on this frame
	JPEG *gocv.NativeByteBuffer
	// JPEGScale is how the frame was resized before encoding JPEG.
	JPEGScale  float64
	Detections []recog.Detection // keyframes only

	Faces []Face // every face in the frame, tracked and named
}

// Face is one face in a frame.
type Face struct {
	Box      image.Rectangle // source-frame pixels, dlib-style inclusive corners
	Track    int             // stable id within the run
	Label    string          // a known name or gallery.Unknown
	Known    bool
	Distance float64 // of the track's identity to the nearest known face; NaN with no known faces
	Detected bool    // the detector found it on this frame (else motion carried it)

	track *track.Track // set by the tracker; its label is final when the frame leaves
}

// Release frees the frame's native memory. The pipeline calls it once.
func (f *Frame) Release() {
	f.Mat.Close()
	if f.JPEG != nil {
		f.JPEG.Close()
		f.JPEG = nil
	}
}
