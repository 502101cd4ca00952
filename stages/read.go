package stages

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/media"
)

// Reader decodes a video file with OpenCV, one fresh Mat per frame. It is
// the pipeline's Source for annotate and batch. Probe the file with
// media.Probe first: OpenCV opens things that are not videos.
type Reader struct {
	vc   *gocv.VideoCapture
	info *media.Info
	seq  int
	pts  time.Duration // of the last frame
	pool MatPool
}

var quietFFmpeg sync.Once

// OpenReader opens a probed file.
func OpenReader(info *media.Info) (*Reader, error) {
	// OpenCV's FFmpeg backend lets the decoder print its complaints about
	// damaged input on stderr; the reader reports such problems itself, in
	// one line. OPENCV_FFMPEG_LOGLEVEL set by the user wins.
	quietFFmpeg.Do(func() {
		if _, set := os.LookupEnv("OPENCV_FFMPEG_LOGLEVEL"); !set {
			os.Setenv("OPENCV_FFMPEG_LOGLEVEL", "-8") // AV_LOG_QUIET
		}
	})
	vc, err := gocv.VideoCaptureFileWithAPI(info.Path, gocv.VideoCaptureFFmpeg)
	if err != nil || !vc.IsOpened() {
		if vc != nil {
			vc.Close()
		}
		return nil, fmt.Errorf("%s: OpenCV cannot decode it", info.Path)
	}
	return &Reader{vc: vc, info: info}, nil
}

// Next decodes the next frame; io.EOF after the last one.
func (r *Reader) Next(ctx context.Context) (*Frame, error) {
	m := r.pool.Get()
	if !r.vc.Read(&m) || m.Empty() {
		r.pool.Put(m)
		if r.seq == 0 {
			return nil, fmt.Errorf("%s: no frame decodes", r.info.Path)
		}
		return nil, io.EOF
	}
	if m.Cols() != r.info.Width || m.Rows() != r.info.Height {
		r.pool.Put(m)
		return nil, fmt.Errorf("%s: frame %d is %dx%d, the stream says %dx%d (size changes mid-stream are not supported)",
			r.info.Path, r.seq, m.Cols(), m.Rows(), r.info.Width, r.info.Height)
	}
	pts := time.Duration(r.vc.Get(gocv.VideoCapturePosMsec) * float64(time.Millisecond))
	// Frames drained from the decoder at the end of the stream come without
	// a timestamp (OpenCV reports 0): continue from the last one.
	if r.seq > 0 && pts <= r.pts {
		pts = r.pts + time.Duration(float64(time.Second)/r.info.FrameRate.Float())
	}
	r.pts = pts
	f := &Frame{Seq: r.seq, Mat: m, pool: &r.pool, PTS: pts}
	r.seq++
	return f, nil
}

// Frames is the number of frames decoded so far.
func (r *Reader) Frames() int { return r.seq }

// Truncated reports whether decoding stopped well short of the frame count
// the container claims (a cut-off download, a crashed recorder). Call it
// after Next has returned io.EOF.
func (r *Reader) Truncated() bool {
	claimed := r.info.Frames
	return claimed > 0 && r.seq < claimed-max(2, claimed/100)
}

// Close releases the decoder and the frame buffers. Call it after the
// pipeline has released every frame.
func (r *Reader) Close() error {
	r.pool.Close()
	return r.vc.Close()
}
