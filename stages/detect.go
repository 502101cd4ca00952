package stages

import (
	"context"
	"fmt"

	"github.com/vidtag/vidtag/recog"
)

// Detect finds faces and their descriptors on keyframes. Run one per worker:
// each holds its own go-face Recognizer (one Recognizer serialises all calls).
type Detect struct {
	Engine *recog.Engine
}

// Process fills f.Detections on keyframes and frees the JPEG.
func (d *Detect) Process(_ context.Context, f *Frame) error {
	if f.JPEG == nil {
		return nil
	}
	dets, err := d.Engine.Recognize(f.JPEG.GetBytes(), f.JPEGScale)
	f.JPEG.Close()
	f.JPEG = nil
	if err != nil {
		return fmt.Errorf("frame %d: detect: %w", f.Seq, err)
	}
	f.Detections = dets
	return nil
}
