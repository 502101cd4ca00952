package stages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/media"
)

// Reader decodes a video file into pooled Mats (media.Decoder: OpenCV's
// frames, without OpenCV's copy). It is the pipeline's Source for annotate
// and batch. Probe the file with media.Probe first: libavformat opens
// things that are not videos.
//
// Frames come out as a player shows them: a stream with rotation side data
// (a phone held upright) is turned upright here, so every box downstream is
// in the displayed frame's pixels.
type Reader struct {
	// KeyframesOnly: only the keyframes need BGR pixels (a sidecar-only
	// run), so a frame with a grey (Frame.Grey) keeps its decoded picture
	// and the schedule converts only the keyframes (Frame.Develop).
	KeyframesOnly bool

	dec   *media.Decoder
	info  *media.Info
	seq   int
	pts   time.Duration // of the last frame
	pool  MatPool
	greys MatPool  // Frame.Grey's buffers
	raw   gocv.Mat // the stored (unrotated) frame, when the stream is rotated
	// times are the file's frame times, sorted, once a frame without a
	// timestamp needed them (see nextStored).
	times []time.Duration
}

// OpenReader opens a probed file. maxFrames, when positive, bounds the
// frames the reader has out at once (see MatPool.Limit): Next waits for the
// pipeline to release one.
func OpenReader(info *media.Info, maxFrames int) (*Reader, error) {
	dec, err := media.OpenDecoder(info.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot decode it: %v", info.Path, err)
	}
	// Frames come as stored; the reader turns them by what the probe read
	// of the display matrix (as ffmpeg, ffplay and browsers do; OpenCV
	// 4.6's own rotation turned 90 and 270 degree streams the wrong way).
	r := &Reader{dec: dec, info: info, pool: MatPool{Limit: maxFrames}}
	if info.Rotation != 0 {
		r.raw = gocv.NewMat()
	}
	return r, nil
}

// Next decodes the next frame; io.EOF after the last one.
func (r *Reader) Next(ctx context.Context) (*Frame, error) {
	m, err := r.pool.Wait(ctx)
	if err != nil {
		return nil, err
	}
	ms, ok, err := r.dec.Next()
	if !ok {
		r.pool.Put(m)
		if err == nil && r.seq == 0 {
			err = fmt.Errorf("%s: no frame decodes", r.info.Path)
		}
		if err != nil {
			if errors.Is(err, media.ErrFrameSize) {
				err = fmt.Errorf("%s: frame %d: %v (size changes mid-stream are not supported)", r.info.Path, r.seq, err)
			}
			return nil, err
		}
		return nil, io.EOF
	}
	f := &Frame{Seq: r.seq, pool: &r.pool, greyPool: &r.greys}
	// The flow's and the cut detector's grey, from the decoder's luma
	// (turned like the frame: not done; those frames grey the BGR).
	if r.info.Rotation == 0 {
		g := r.greys.Get()
		if has, err := r.grey(&g); err != nil || !has {
			r.greys.Put(g)
			if err != nil {
				r.pool.Put(m)
				return nil, err
			}
		} else {
			f.Grey = g
		}
	}
	if r.KeyframesOnly && f.HasGrey() {
		pic, err := r.dec.Hold()
		if err != nil {
			r.pool.Put(m)
			f.Release()
			return nil, err
		}
		f.Mat, f.pending, f.develop = m, pic, r.develop
	} else if err := r.bgr(&m, f); err != nil {
		r.pool.Put(m)
		f.Release()
		return nil, err
	}
	r.seq++
	pts := time.Duration(ms * float64(time.Millisecond))
	// Frames drained from the decoder at the end of the stream (the last
	// few of a stream with B-frames) come without a timestamp (OpenCV
	// reports 0): with evenly spaced frames, the next step of the rate;
	// otherwise the next time the file stores (one pass over it).
	if f.Seq > 0 && pts <= r.pts {
		if r.info.EvenRate {
			pts = r.pts + time.Duration(float64(time.Second)/r.info.FrameRate.Float())
		} else {
			pts = r.nextStored(ctx)
		}
	}
	r.pts, f.PTS = pts, pts
	return f, nil
}

// bgr converts the current frame into m (turned upright) and gives it to f.
func (r *Reader) bgr(m *gocv.Mat, f *Frame) error {
	into := m
	if r.info.Rotation != 0 {
		into = &r.raw
	}
	r.size(into)
	data, err := into.DataPtrUint8()
	if err != nil {
		return err
	}
	if err := r.dec.BGR(data, int(into.Step())); err != nil {
		return err
	}
	switch r.info.Rotation {
	case 90:
		gocv.Rotate(r.raw, m, gocv.Rotate90Clockwise)
	case 180:
		gocv.Rotate(r.raw, m, gocv.Rotate180Clockwise)
	case 270:
		gocv.Rotate(r.raw, m, gocv.Rotate90CounterClockwise)
	}
	if m.Cols() != r.info.Width || m.Rows() != r.info.Height {
		return fmt.Errorf("%s: frame %d is %dx%d, the stream says %dx%d (size changes mid-stream are not supported)",
			r.info.Path, f.Seq, m.Cols(), m.Rows(), r.info.Width, r.info.Height)
	}
	f.Mat = *m
	return nil
}

// develop converts a held picture into f's Mat (Frame.Develop). Held
// pictures are never rotated.
func (r *Reader) develop(f *Frame) error {
	r.size(&f.Mat)
	if f.Mat.Cols() != r.info.Width || f.Mat.Rows() != r.info.Height {
		return fmt.Errorf("%s: frame %d is %dx%d, the stream says %dx%d (size changes mid-stream are not supported)",
			r.info.Path, f.Seq, f.Mat.Cols(), f.Mat.Rows(), r.info.Width, r.info.Height)
	}
	data, err := f.Mat.DataPtrUint8()
	if err != nil {
		return err
	}
	return f.pending.BGR(data, int(f.Mat.Step()))
}

// size (re)allocates m at the stream's size, BGR, when it is not.
func (r *Reader) size(m *gocv.Mat) {
	w, h := r.dec.W, r.dec.H
	if m.Cols() != w || m.Rows() != h || m.Type() != gocv.MatTypeCV8UC3 {
		m.Close()
		*m = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	}
}

// grey writes the current frame's luma into g, (re)allocated at the
// stream's size; false for a frame without an 8-bit luma plane.
func (r *Reader) grey(g *gocv.Mat) (bool, error) {
	w, h := r.dec.W, r.dec.H
	if g.Cols() != w || g.Rows() != h || g.Type() != gocv.MatTypeCV8U {
		g.Close()
		*g = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U)
	}
	data, err := g.DataPtrUint8()
	if err != nil {
		return false, err
	}
	return r.dec.Grey(data, int(g.Step()))
}

// nextStored is the presentation time the file stores for the frame after
// the last one, from a demux-only pass over it (once, at the first frame
// that needs it). An estimate from the average frame rate would be wrong
// for a variable frame rate; it is used only when the pass fails.
func (r *Reader) nextStored(ctx context.Context) time.Duration {
	if r.times == nil {
		r.times, _ = media.FrameTimes(ctx, r.info.Path)
		if r.times == nil {
			r.times = []time.Duration{}
		}
	}
	// OpenCV's times count from the stream's start, ffprobe's from the
	// file's clock's zero; OpenCV's are rounded (half a millisecond).
	start := time.Duration(math.Round(r.info.VideoStart*1e6)) * time.Microsecond
	last := r.pts + start + time.Millisecond/2
	if i := sort.Search(len(r.times), func(i int) bool { return r.times[i] > last }); i < len(r.times) {
		return r.times[i] - start
	}
	return r.pts + time.Duration(float64(time.Second)/r.info.FrameRate.Float())
}

// Frames is the number of frames decoded so far.
func (r *Reader) Frames() int { return r.seq }

// Completeness is how a finished read compares with what the file stores.
type Completeness struct {
	Truncated bool
	// Expected is the frame count the decoded frames were checked
	// against (0 when nothing says).
	Expected int
	// Source says how Expected was known: "container" (the MP4/MOV
	// sample table), "packets" (a demux-only count of the packets the
	// file stores) or "" (no count: the read was checked for errors only).
	Source string
	Reason string // why it is truncated
}

// Check decides, after Next has returned io.EOF, whether decoding stopped
// short of the file's end (a cut-off download, a crashed recorder). Only
// evidence counts, never an estimate from the duration: the container's
// own exact frame count, or else an error from a demux-only pass over the
// file, or fewer decoded frames than the packets that pass found. A WebM
// whose audio outlasts its video, or an AVI whose header counts skipped
// frames, is complete.
func (r *Reader) Check(ctx context.Context) (Completeness, error) {
	short := func(n int) bool { return r.seq < n-max(2, n/100) }
	if r.info.FramesExact {
		c := Completeness{Expected: r.info.Frames, Source: "container"}
		if short(c.Expected) {
			c.Truncated = true
			c.Reason = fmt.Sprintf("decoded %d of the %d frames its header claims", r.seq, c.Expected)
		}
		return c, nil
	}
	pc, err := media.CountPackets(ctx, r.info.Path)
	if err != nil {
		return Completeness{}, err
	}
	c := Completeness{Expected: pc.Packets, Source: "packets"}
	switch {
	case pc.Error != "":
		c.Truncated = true
		c.Reason = fmt.Sprintf("the demuxer stopped with an error after %d frames (%s)", pc.Packets, pc.Error)
	case short(pc.Packets):
		c.Truncated = true
		c.Reason = fmt.Sprintf("decoded %d of the %d frames the file stores", r.seq, pc.Packets)
	}
	return c, nil
}

// Close releases the decoder and the frame buffers. Call it after the
// pipeline has released every frame.
func (r *Reader) Close() error {
	r.pool.Close()
	r.greys.Close()
	if r.info.Rotation != 0 {
		r.raw.Close()
	}
	r.dec.Close()
	return nil
}
