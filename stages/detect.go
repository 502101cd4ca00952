package stages

import (
	"context"
	"fmt"

	"github.com/vidtag/vidtag/recog"
)

// Detect finds faces and their descriptors on keyframes. Several workers
// share it: each keyframe borrows an engine (a go-face Recognizer, which
// serialises its calls) from the pool for the time of one call; other
// frames pass straight through.
type Detect struct {
	Pool *recog.Pool
}

// Process fills f.Detections on keyframes and frees the JPEG.
func (d *Detect) Process(ctx context.Context, f *Frame) error {
	if f.JPEG == nil {
		return nil
	}
	e, err := d.Pool.Get(ctx)
	if err != nil {
		return err
	}
	dets, err := e.Recognize(f.JPEG.GetBytes(), f.JPEGScale)
	d.Pool.Put(e)
	f.JPEG.Close()
	f.JPEG = nil
	if err != nil {
		return fmt.Errorf("frame %d: detect: %w", f.Seq, err)
	}
	f.Detections = dets
	return nil
}
