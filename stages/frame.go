package stages

import (
	"context"
	"image"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/track"
)

// Frame is one decoded video frame and everything learned about it.
type Frame struct {
	Seq int           // decode order, from 0
	PTS time.Duration // presentation time on the stream's clock, from its first frame
	Mat gocv.Mat      // BGR pixels, full resolution
	// Grey is the frame in grey at full resolution, from the decoder's
	// luma (a file's frames: media.Decoder.Grey), for the cut detector and
	// the flow; empty when the frame came without one (live, 10-bit,
	// rotated): they grey Mat then.
	Grey     gocv.Mat
	Captured time.Time // when a live source delivered it (latency is measured from here)

	Cut bool // a new shot starts here
	Key bool // the detector runs on this frame
	// Describe: the detector also computes the descriptors of the faces
	// it finds (always, for HOG).
	Describe bool
	JPEG     *gocv.NativeByteBuffer
	// JPEGScale is how the frame was resized before encoding JPEG.
	JPEGScale  float64
	Detections []recog.Detection // keyframes only
	// Tile is the detector's tile turn on this keyframe (recog.Input.Tile;
	// 0: everywhere), and Sees where it looked (nil: everywhere).
	Tile int
	Sees func(box image.Rectangle) bool

	Faces []Face // every face in the frame, tracked and named
	// Unlisted are faces followed on this frame that the sidecar and the
	// drawing leave out: tracks not (yet) confirmed as faces, and, with a
	// blur on, a new track followed back past the keyframe where the
	// detector missed it. Only the blur uses them: privacy errs towards
	// hiding.
	Unlisted []Face
	// Blur: the blur step ran on this frame, so each face's Blurred is
	// meaningful (and the sidecar says it).
	Blur bool
	// Late are detections made on earlier frames (live: the detector runs
	// beside the pipeline and finishes frames later); the tracker carries
	// them to this frame by optical flow (Track.ObserveAt).
	Late []Detected

	pool     *MatPool // where Mat goes back on Release; nil: Release closes it
	greyPool *MatPool // where Grey goes back (nil: closed)
	// pending is the decoded picture Develop converts into Mat (the
	// reader's KeyframesOnly), with develop; nil once done.
	pending *media.Picture
	develop func(*Frame) error
	moved   bool // Move handed the contents on: Release does nothing
	// released: Release ran; it does nothing again
	released bool
}

// Detected is the detector's answer for frame Seq, attached to a later
// frame.
type Detected struct {
	Seq        int
	Detections []recog.Detection
	Sees       func(box image.Rectangle) bool // where it looked (nil: everywhere)
}

// Face is one face in a frame.
type Face struct {
	Box      image.Rectangle // source-frame pixels, dlib-style inclusive corners
	Track    int             // stable id within the run
	Label    string          // a known name or gallery.Unknown
	Known    bool
	Distance float64 // of the track's identity to the nearest known face; NaN with no known faces
	Margin   float64 // identity.Decision.Margin: vs the next known person; NaN if none
	Crowd    float64 // identity.Decision.Crowd: vs the nearest stranger; NaN if none
	Detected bool    // the detector found it on this frame (else motion carried it)
	// Score is the detector's confidence in the track's latest detection
	// (NaN for HOG, which gives none).
	Score float32
	// Blurred: the blur step hid this face (package blur).
	Blurred bool
	// Identity is the track-level descriptor (the mean of every
	// descriptor its track had by the time the frame left the tracker)
	// and Descriptors how many went into it (0: never described).
	Identity    gallery.Descriptor
	Descriptors int
	// Cluster is the stranger group of an Unknown face (package people),
	// from 1; 0: none (a known face, or a track never described).
	Cluster int

	track *track.Track // set by the tracker; its label is final when the frame leaves
}

// NewFrame wraps a decoded Mat; pool, if not nil, gets the Mat back on
// Release.
func NewFrame(seq int, pts time.Duration, m gocv.Mat, pool *MatPool) *Frame {
	return &Frame{Seq: seq, PTS: pts, Mat: m, pool: pool}
}

// Release frees the frame's native memory (or recycles its buffer). The
// pipeline calls it exactly once; a second call does nothing (a Mat given
// back twice would let the pool hand out more than its Limit, and an
// empty Mat).
func (f *Frame) Release() {
	if f.moved || f.released {
		return
	}
	f.released = true
	f.DropPixels()
	f.DropGrey()
	if f.pending != nil {
		f.pending.Free()
		f.pending = nil
	}
	if f.JPEG != nil {
		f.JPEG.Close()
		f.JPEG = nil
	}
}

// DropPixels gives the frame's pixels back now (to the pool, or closes
// them), for a step that knows no later step draws on, encodes or crops
// this frame: its buffer goes back to the reader instead of waiting out a
// look-ahead, and every frame in flight is a buffer the pool must fill for
// the first time. Mat is then unusable (HasPixels says so); Release still
// runs once, for the rest.
func (f *Frame) DropPixels() { giveBack(&f.Mat, f.pool) }

// giveBack puts *m back into pool (or closes it, with no pool) and empties
// it; an empty *m is left alone.
func giveBack(m *gocv.Mat, pool *MatPool) {
	if m.Ptr() == nil {
		return
	}
	if pool != nil {
		pool.Put(*m)
	} else {
		m.Close()
	}
	*m = gocv.Mat{}
}

// HasPixels reports whether Mat still holds the frame: not after
// DropPixels, Release or Move.
func (f *Frame) HasPixels() bool { return f.Mat.Ptr() != nil }

// HasGrey reports whether Grey holds the frame's grey.
func (f *Frame) HasGrey() bool { return f.Grey.Ptr() != nil }

// DropGrey gives Grey back once the steps that read it are done with it.
func (f *Frame) DropGrey() { giveBack(&f.Grey, f.greyPool) }

// Develop finishes a frame the reader kept as a decoded picture
// (Reader.KeyframesOnly): with want, its BGR pixels go into Mat; without,
// it gives Mat back (HasPixels is then false). The picture is freed either
// way. A frame the reader converted already is left as it is.
func (f *Frame) Develop(want bool) error {
	if f.pending == nil {
		return nil
	}
	defer func() {
		f.pending.Free()
		f.pending = nil
	}()
	if !want {
		f.DropPixels()
		return nil
	}
	return f.develop(f)
}

// Move hands the frame's contents to a new Frame, which the receiver owns
// and releases; f is left empty and its Release does nothing. A pipeline's
// last step uses it to pass a frame out of the run (live: to the display)
// while the runner still releases every item exactly once.
func (f *Frame) Move() *Frame {
	g := *f
	*f = Frame{Seq: f.Seq, PTS: f.PTS, moved: true}
	return &g
}

// MatPool recycles frame buffers. A 1080p frame is 6 MB; allocating one per
// frame and freeing it again costs page faults on every frame, while a
// pipeline only ever holds a few dozen frames at once.
//
// With a Limit, the pool is also the pipeline's memory budget: at most Limit
// Mats are out at once, and Wait blocks until one comes back. Set Limit
// before the first Get or Wait.
type MatPool struct {
	Limit int

	mu     sync.Mutex
	free   []gocv.Mat
	out    int           // Mats handed out and not yet put back
	back   chan struct{} // signalled on Put while someone waits
	closed bool
}

// Wait is Get under the Limit: it blocks while Limit Mats are out, until
// one is put back or ctx ends.
func (p *MatPool) Wait(ctx context.Context) (gocv.Mat, error) {
	for {
		p.mu.Lock()
		if p.Limit <= 0 || p.out < p.Limit {
			p.mu.Unlock()
			return p.Get(), nil
		}
		if p.back == nil {
			p.back = make(chan struct{}, 1)
		}
		back := p.back
		p.mu.Unlock()
		select {
		case <-back:
		case <-ctx.Done():
			return gocv.Mat{}, ctx.Err()
		}
	}
}

// Out is the number of Mats handed out and not yet put back.
func (p *MatPool) Out() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

// Get returns a recycled Mat, or a new empty one.
func (p *MatPool) Get() gocv.Mat {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out++
	if n := len(p.free); n > 0 {
		m := p.free[n-1]
		p.free = p.free[:n-1]
		return m
	}
	return gocv.NewMat()
}

// Put gives a Mat back; after Close it is closed instead.
func (p *MatPool) Put(m gocv.Mat) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out--
	if p.back != nil {
		select {
		case p.back <- struct{}{}:
		default:
		}
	}
	if p.closed {
		m.Close()
		return
	}
	p.free = append(p.free, m)
}

// Close frees the pooled Mats.
func (p *MatPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.free {
		m.Close()
	}
	p.free, p.closed = nil, true
}
