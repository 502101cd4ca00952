package stages

import (
	"context"
	"fmt"

	"github.com/vidtag/vidtag/recog"
)

// Detect finds faces and their descriptors on keyframes. Several workers
// share it: each keyframe borrows an engine (one loaded set of models, not
// for concurrent use) from the pool for the time of one call; other frames
// pass straight through.
type Detect struct {
	Pool *recog.Pool
}

// Process fills f.Detections on keyframes and frees the JPEG.
func (d *Detect) Process(ctx context.Context, f *Frame) error {
	if !f.Key {
		return nil
	}
	e, err := d.Pool.Get(ctx)
	if err != nil {
		return err
	}
	in := recog.Input{Frame: f.Mat, JPEGScale: f.JPEGScale, Describe: f.Describe, Tile: f.Tile}
	if f.JPEG != nil {
		in.JPEG = f.JPEG.GetBytes()
	}
	dets, err := e.Detect(in)
	f.Sees = e.Coverage(f.Mat.Cols(), f.Mat.Rows(), f.Tile, f.Describe)
	d.Pool.Put(e)
	if f.JPEG != nil {
		f.JPEG.Close()
		f.JPEG = nil
	}
	if err != nil {
		return fmt.Errorf("frame %d: detect: %w", f.Seq, err)
	}
	f.Detections = dets
	return nil
}
