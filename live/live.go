// Package live tags a camera, a stream or a file as it plays, with bounded
// latency. Its shape:
//
//	capture ──every frame──► track ─► (blur) ─► draw ─► (record) ─► display
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
	"github.com/vidtag/vidtag/identity"
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
	// EventHold is how long a person may be off screen (or undetected)
	// and still count as the same appearance; 0 means DefaultEventHold.
	EventHold time.Duration
	Log       *zap.Logger
}

// DefaultEventHold bridges the detector missing a face for a moment, a
// track ending and a new one starting on the same person, and a turn of
// the head: one appearance is one enter and one leave.
const DefaultEventHold = 3 * time.Second

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
	recErr   bool // the error is the recording's own
	start    time.Time
	// Recorded is the number of frames in the recording once Wait has
	// kept it (0 when there is none).
	Recorded int
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
		tracked: make(chan struct{}), events: newEventLog(opt.Events, opt.EventHold), start: time.Now()}
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
		// What was captured is kept, whatever ended the session (a stop,
		// a signal, a lost source), unless the recording itself failed.
		s.errMu.Lock()
		recErr := s.recErr
		s.errMu.Unlock()
		if !recErr {
			n := s.recorder.Frames()
			if err = s.recorder.Commit(); err == nil {
				s.Recorded = n
			}
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
		if err == nil && ctx.Err() != nil {
			f.Release() // read just as the session stopped
			return
		}
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
	var convert *stages.Convert // the JPEG go-face reads, for HOG only
	if s.opt.Tag.Detector == recog.HOGName {
		scale, _ := stages.DetectScale(s.cap.w, s.cap.h, s.opt.Tag.MinFace, s.opt.Tag.DetectPixels)
		convert = stages.NewConvert(scale, s.opt.Tag.JPEGQuality)
		defer convert.Close()
	}
	detect := &stages.Detect{Pool: s.env.Engines}
	for {
		f, ok := s.mailbox.Take(ctx)
		if !ok {
			return
		}
		f.Key, f.Describe = true, true
		var err error
		if convert != nil {
			err = convert.Process(ctx, f)
		}
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
	tol, how := annotate.Tolerance(s.opt.Tag.Tolerance, s.env.Gallery)
	s.log.Info("identity", zap.Float64("tolerance", tol), zap.String("picked", how))
	cfg.Rule, cfg.MaxMisses = identity.DefaultRule(tol), s.opt.Tag.MaxMisses
	tr := track.New(cfg, s.env.Gallery)
	flow := stages.NewFlow(s.cap.w, s.cap.h)
	defer flow.Close()
	greys := newGreyRing(64)
	defer greys.close()
	draw := stages.NewDraw(s.cap.h)
	draw.BlurredLabels = s.opt.Tag.BlurLabels
	var hide *stages.Blur // the window and the recording alike
	if s.opt.Tag.Blur.On() {
		hide = stages.NewBlur(s.opt.Tag.Blur, s.opt.Tag.BlurStyle)
		defer hide.Close()
	}
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
					dets[i] = track.Detection{Box: det.Box, Descriptor: det.Descriptor, Described: det.Described, Score: det.Score}
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
			f.Faces = append(f.Faces, stages.Face{Box: tk.Box, Track: tk.ID, Label: m.Label, Known: m.Known, Distance: m.Distance,
				Margin: m.Margin, Crowd: m.Crowd})
		}
		s.events.update(f)
		if hide != nil {
			hide.Process(ctx, f)
		}
		draw.Process(ctx, f)
		if s.opt.Record != "" {
			if err := s.record(ctx, f); err != nil {
				if ctx.Err() != nil {
					f.Release()
					continue
				}
				s.errMu.Lock()
				s.recErr = s.err == nil
				s.errMu.Unlock()
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

// eventLog writes enter and leave events. A known person is one
// appearance, whatever tracks show them: they enter when first on screen
// and leave once they have been off screen for the hold time (the leave
// carries the last time they were seen), so a detector that drops a face
// for a moment, or two tracks with the same name, do not make extra
// pairs. An unknown face is followed by its track, with the same hold.
type eventLog struct {
	w      io.Writer
	hold   time.Duration
	mu     sync.Mutex
	on     map[string]*appearance // key -> open appearance
	lastAt time.Duration
}

type appearance struct {
	label    string
	track    int
	lastSeen time.Duration
}

// Event is one line of --events.
type Event struct {
	Time  float64 `json:"time"` // seconds on the source's clock
	Wall  string  `json:"wall"` // RFC 3339
	Event string  `json:"event"`
	Label string  `json:"label"`
	Track int     `json:"track"` // the track the person entered with
}

func newEventLog(w io.Writer, hold time.Duration) *eventLog {
	if hold <= 0 {
		hold = DefaultEventHold
	}
	return &eventLog{w: w, hold: hold, on: map[string]*appearance{}}
}

func (e *eventLog) update(f *stages.Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastAt = f.PTS
	for _, face := range f.Faces {
		key := face.Label
		if !face.Known {
			key = fmt.Sprintf("%s#%d", face.Label, face.Track)
		}
		if a, ok := e.on[key]; ok {
			a.lastSeen = f.PTS
			continue
		}
		e.on[key] = &appearance{label: face.Label, track: face.Track, lastSeen: f.PTS}
		e.emit(f.PTS, "enter", face.Label, face.Track)
	}
	e.leave(func(a *appearance) bool { return f.PTS-a.lastSeen > e.hold })
}

// leave ends the appearances that gone says are over, in the order they
// were last seen.
func (e *eventLog) leave(gone func(*appearance) bool) {
	var keys []string
	for k, a := range e.on {
		if gone(a) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := e.on[keys[i]], e.on[keys[j]]
		if a.lastSeen != b.lastSeen {
			return a.lastSeen < b.lastSeen
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		a := e.on[k]
		e.emit(a.lastSeen, "leave", a.label, a.track)
		delete(e.on, k)
	}
}

// close ends every open appearance at the end of the session.
func (e *eventLog) close(int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leave(func(*appearance) bool { return true })
}

func (e *eventLog) emit(at time.Duration, kind, label string, id int) {
	if e.w == nil {
		return
	}
	b, _ := json.Marshal(Event{Time: math.Round(at.Seconds()*1000) / 1000, Wall: time.Now().UTC().Format(time.RFC3339Nano),
		Event: kind, Label: label, Track: id})
	e.w.Write(append(b, '\n'))
}
