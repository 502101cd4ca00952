package stages

import (
	"context"
	"fmt"

	"github.com/vidtag/vidtag/media"
)

// Encode sends each frame's pixels to the MP4 writer.
type Encode struct {
	W *media.Writer
}

// Process writes f.Mat.
func (e *Encode) Process(_ context.Context, f *Frame) error {
	data, err := f.Mat.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("frame %d: %w", f.Seq, err)
	}
	return e.W.WriteFrame(data)
}
