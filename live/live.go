// Package live tags a camera, a stream or a file as it plays, with bounded
// latency. Its shape:
//
//	capture ──every frame──► track ─► draw ─► (record) ─► display
//	   │                       ▲
//	   └─newest frame only─► detect (in its own time)
//	     (leaky mailbox)       │
//	                           └─ results, carried forward to the current
//	                              frame by optical flow
//
// Capture never waits for detection: the detector takes the newest frame
// when it is free and older ones are dropped (and counted). Every captured
// frame is shown promptly with the newest boxes and names, which follow the
// faces between detections. Names are decided causally (no look-ahead).
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/pipeline"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/stages"
	"github.com/vidtag/vidtag/track"
)

// Options are one live session's settings.
type Options struct {
	Source Source
	// Tag holds the detection, naming and encoding settings (Input,
	// Output, Sidecar and Report are not used).
	Tag    annotate.Options
	Record string    // also write the annotated stream to this MP4
	Force  bool      // replace an existing recording
	Events io.Writer // JSON lines: a person entering or leaving
	Log    *zap.Logger
}

// Session runs capture, detection and tracking; the caller shows the frames
// it delivers (on the main thread, for a window) and hands each back.
type Session struct {
	opt      Options
	env      *annotate.Env
	log      *zap.Logger
	cap      *capture
	out      chan *stages.Frame
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	mailbox  *pipeline.Mailbox[*stages.Frame]
	results  chan detection
	tracked  chan struct{} // closed when tracking stops reading results
	recorder *media.Writer
	encode   *stages.Encode
	events   *eventLog
	stats    stats
	errMu    sync.Mutex
	err      error
	start    time.Time
}

// resultSlots is the room for detections tracking has not taken yet. The
// end of the stream does not depend on it: a detection finished after
// tracking has stopped is dropped, not sent (see detectLoop).
var resultSlots = 4

// detection is the detector's answer for one frame.
type detection struct {
	seq  int
	dets []recog.Detection
}

// Start opens the source and starts the session's goroutines. Frames()
// delivers annotated frames until the source ends, the context is
// cancelled or Stop is called.
func Start(ctx context.Context, env *annotate.Env, opt Options) (*Session, error) {
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	if opt.Record != "" {
		if err := media.CheckWritable(opt.Record, opt.Force); err != nil {
			return nil, err
		}
	}
	// The detector must be ready before the clock starts: a camera does
	// not wait, and a file plays on.
	if err := env.Engines.Ready(ctx); err != nil {
		return nil, err
	}
	c, err := openCapture(ctx, opt.Source, log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &Session{opt: opt, env: env, log: log, cap: c, cancel: cancel,
		out: make(chan *stages.Frame, 1), mailbox: pipeline.NewMailbox[*stages.Frame](), results: make(chan detection, resultSlots),
		tracked: make(chan struct{}), events: newEventLog(opt.Events), start: time.Now()}
	s.stats.init(c.fps)
	log.Info("live", zap.Stringer("source", opt.Source), zap.String("size", fmt.Sprintf("%dx%d", c.w, c.h)), zap.Float64("fps", c.fps))

	frames := make(chan *stages.Frame, 2)
	s.wg.Add(3)
	go s.captureLoop(ctx, frames)
	go s.detectLoop(ctx)
	go s.trackLoop(ctx, frames)
	return s, nil
}

// Frames delivers annotated frames in order; it closes when the session
// ends. The receiver owns each frame: call Shown when it is on screen, and
// Release it when done with it.
func (s *Session) Frames() <-chan *stages.Frame { return s.out }

// Shown records that f is on screen: latency is measured to here.
func (s *Session) Shown(f *stages.Frame) { s.stats.shown(f) }

// Pause pauses a file's playback (a camera keeps running; its frames are
// skipped).
func (s *Session) Pause(on bool) { s.cap.paused.set(on) }

// Stop ends the session; Frames closes soon after.
func (s *Session) Stop() { s.cancel() }

// Wait waits for the session to end after Frames has closed and returns the
// report. A source that ends (a file without --loop) or Stop is a normal
// end; a source that cannot be read is an error.
func (s *Session) Wait() (*Report, error) {
	s.wg.Wait()
	s.cap.close()
	if s.encode != nil {
		s.encode.Close()
	}
	var err error
	if s.recorder != nil {
		if s.failed() == nil {
			err = s.recorder.Commit()
		} else {
			s.recorder.Abort()
		}
	}
	rep := s.stats.report(time.Since(s.start), s.mailbox.Dropped())
	rep.Source = s.opt.Source.String()
	if e := s.failed(); e != nil {
		return rep, e
	}
	return rep, err
}

// RunHeadless runs a session with no window: a frame counts as shown when
// it is complete.
func RunHeadless(ctx context.Context, env *annotate.Env, opt Options) (*Report, error) {
	s, err := Start(ctx, env, opt)
	if err != nil {
		return nil, err
	}
	for f := range s.Frames() {
		s.Shown(f)
		f.Release()
	}
	return s.Wait()
}

func (s *Session) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
	s.cancel()
}

func (s *Session) failed() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// captureLoop reads frames, leaves a copy of each in the detector's mailbox
// and passes it on to tracking. It never waits for either: if tracking has
// fallen behind, the frame is dropped (it would only add latency).
func (s *Session) captureLoop(ctx context.Context, frames chan<- *stages.Frame) {
	defer s.wg.Done()
	defer close(frames)
	defer s.mailbox.Close()
	for {
		f, err := s.cap.next(ctx)
		if errors.Is(err, errSourceEnded) || ctx.Err() != nil {
			return
		}
		if err != nil {
			s.fail(err)
			return
		}
		s.stats.captured()
		d := stages.NewFrame(f.Seq, f.PTS, f.Mat.Clone(), nil)
		d.Captured = f.Captured
		s.mailbox.Put(d)
		select {
		case frames <- f:
		default:
			s.stats.displayDrop()
			f.Release()
		}
	}
}

// detectLoop runs the detector on the newest frame whenever it is free.
func (s *Session) detectLoop(ctx context.Context) {
	defer s.wg.Done()
	defer close(s.results)
	scale, _ := stages.DetectScale(s.cap.w, s.cap.h, s.opt.Tag.MinFace, s.opt.Tag.DetectPixels)
	convert := stages.NewConvert(scale, s.opt.Tag.JPEGQuality)
	defer convert.Close()
	detect := &stages.Detect{Pool: s.env.Engines}
	for {
		f, ok := s.mailbox.Take(ctx)
		if !ok {
			return
		}
		f.Key = true
		err := convert.Process(ctx, f)
		if err == nil {
			err = detect.Process(ctx, f)
		}
		dets, seq := f.Detections, f.Seq
		f.Release()
		if err != nil {
			if ctx.Err() == nil {
				s.fail(err)
			}
			return
		}
		s.stats.detected()
		select {
		case s.results <- detection{seq: seq, dets: dets}:
		case <-s.tracked: // the stream ended: nothing will read it
			return
		case <-ctx.Done():
			return
		}
	}
}

// trackLoop moves the faces onto every frame, merges detections as they
// arrive, draws, records, and hands the frame to the display.
func (s *Session) trackLoop(ctx context.Context, frames <-chan *stages.Frame) {
	defer s.wg.Done()
	defer close(s.out)
	defer close(s.tracked)
	defer func() {
		for f := range frames { // after a stop: release what capture still sends
			f.Release()
		}
	}()
	cfg := track.DefaultConfig()
	cfg.Tolerance, cfg.MaxMisses = s.opt.Tag.Tolerance, s.opt.Tag.MaxMisses
	tr := track.New(cfg, s.env.Gallery)
	flow := stages.NewFlow(s.cap.w, s.cap.h)
	defer flow.Close()
	greys := newGreyRing(64)
	defer greys.close()
	draw := stages.NewDraw(s.cap.h)
	overlay := newOverlay(s.cap.h)
	var boxes []image.Rectangle
	prevSeq := -1

	for f := range frames {
		if ctx.Err() != nil {
			f.Release()
			continue
		}
		grey := greys.add(f.Seq)
		flow.Prepare(f.Mat, grey)
		if prev, ok := greys.get(prevSeq); ok && len(tr.Tracks()) > 0 {
			boxes = boxes[:0]
			for _, tk := range tr.Tracks() {
				boxes = append(boxes, tk.Box)
			}
			moved, ok := flow.Move(*prev, *grey, boxes)
			i := 0
			tr.Move(func(*track.Track) (image.Rectangle, bool) {
				defer func() { i++ }()
				return moved[i], ok[i]
			})
		}
		prevSeq = f.Seq
		// Detections were made on an earlier frame: carry their boxes to
		// this one with the same flow, then merge them.
		for pending := true; pending; {
			select {
			case d, ok := <-s.results:
				if !ok {
					pending = false
					break
				}
				dets := make([]track.Detection, len(d.dets))
				for i, det := range d.dets {
					dets[i] = track.Detection{Box: det.Box, Descriptor: det.Descriptor}
				}
				if from, ok := greys.get(d.seq); ok && d.seq != f.Seq && len(dets) > 0 {
					boxes = boxes[:0]
					for _, det := range dets {
						boxes = append(boxes, det.Box)
					}
					moved, ok := flow.Move(*from, *grey, boxes)
					for i := range dets {
						if ok[i] {
							dets[i].Box = moved[i]
						}
					}
				}
				tr.Observe(f.Seq, dets)
			default:
				pending = false
			}
		}
		f.Faces = f.Faces[:0]
		for _, tk := range tr.Tracks() {
			m := tk.Label()
			f.Faces = append(f.Faces, stages.Face{Box: tk.Box, Track: tk.ID, Label: m.Label, Known: m.Known, Distance: m.Distance})
		}
		s.events.update(f)
		draw.Process(ctx, f)
		if s.opt.Record != "" {
			if err := s.record(ctx, f); err != nil {
				s.fail(err)
				f.Release()
				continue
			}
		}
		overlay.draw(f, s.stats.live())
		select {
		case s.out <- f:
		case <-ctx.Done():
			f.Release()
		}
	}
	s.events.close(prevSeq)
}

// record writes the annotated frame (before the overlay) to the MP4.
func (s *Session) record(ctx context.Context, f *stages.Frame) error {
	if s.recorder == nil {
		even := s.cap.w%2 == 0 && s.cap.h%2 == 0
		w, err := media.NewWriter(media.WriterOptions{Path: s.opt.Record, Width: s.cap.w, Height: s.cap.h,
			FrameRate: media.Rational{Num: int(math.Round(s.cap.fps * 1000)), Den: 1000},
			Preset:    annotate.EncoderPreset(s.opt.Tag.Preset, s.cap.w, s.cap.h), CRF: s.opt.Tag.CRF, Force: s.opt.Force, I420: even})
		if err != nil {
			return err
		}
		s.recorder, s.encode = w, stages.NewEncode(w, even)
	}
	return s.encode.Process(ctx, f)
}

// greyRing keeps the flow images of the last frames, by frame number, so a
// detection made on an older frame can be carried to the current one.
type greyRing struct {
	mats []gocv.Mat
	seqs []int
}

func newGreyRing(n int) *greyRing {
	r := &greyRing{mats: make([]gocv.Mat, n), seqs: make([]int, n)}
	for i := range r.mats {
		r.mats[i] = gocv.NewMat()
		r.seqs[i] = -1
	}
	return r
}

func (r *greyRing) add(seq int) *gocv.Mat {
	i := seq % len(r.mats)
	r.seqs[i] = seq
	return &r.mats[i]
}

func (r *greyRing) get(seq int) (*gocv.Mat, bool) {
	if seq < 0 {
		return nil, false
	}
	i := seq % len(r.mats)
	return &r.mats[i], r.seqs[i] == seq
}

func (r *greyRing) close() {
	for _, m := range r.mats {
		m.Close()
	}
}

// eventLog writes enter and leave events: a track showing a label enters;
// it leaves when the track ends or its label changes (then the new label
// enters).
type eventLog struct {
	w      io.Writer
	mu     sync.Mutex
	on     map[int]string // track -> label on screen
	lastAt time.Duration
}

// Event is one line of --events.
type Event struct {
	Time  float64 `json:"time"` // seconds on the source's clock
	Wall  string  `json:"wall"` // RFC 3339
	Event string  `json:"event"`
	Label string  `json:"label"`
	Track int     `json:"track"`
}

func newEventLog(w io.Writer) *eventLog { return &eventLog{w: w, on: map[int]string{}} }

func (e *eventLog) update(f *stages.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastAt = f.PTS
	seen := map[int]bool{}
	for _, face := range f.Faces {
		seen[face.Track] = true
		if label, ok := e.on[face.Track]; ok && label == face.Label {
			continue
		} else if ok {
			e.emit(f.PTS, "leave", label, face.Track)
		}
		e.on[face.Track] = face.Label
		e.emit(f.PTS, "enter", face.Label, face.Track)
	}
	var gone []int
	for id := range e.on {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	sort.Ints(gone)
	for _, id := range gone {
		e.emit(f.PTS, "leave", e.on[id], id)
		delete(e.on, id)
	}
}

// close ends every open track at the end of the session.
func (e *eventLog) close(int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []int
	for id := range e.on {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		e.emit(e.lastAt, "leave", e.on[id], id)
	}
	e.on = map[int]string{}
}

func (e *eventLog) emit(at time.Duration, kind, label string, id int) {
	if e.w == nil {
		return
	}
	b, _ := json.Marshal(Event{Time: math.Round(at.Seconds()*1000) / 1000, Wall: time.Now().UTC().Format(time.RFC3339Nano),
		Event: kind, Label: label, Track: id})
	e.w.Write(append(b, '\n'))
}
