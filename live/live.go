// Package live tags a camera, a stream or a file as it plays, with bounded
// latency. It runs on the same runner (package pipeline) and the same
// stages as annotate; steps (below) is the whole shape:
//
//	capture ─► mailbox ─► schedule ─► detect ─► track ─► blur ─► draw ─► record ─► show
//	(camera,   newest     keyframes,  async:     flow +    (policy)  boxes,  (--record)  overlay,
//	 stream,   frame      shot cuts   newest     identity,           names,  MP4         hand to
//	 file)     wins                   keyframe   causal              events              the display
//	                                      │         ▲
//	                                      └─────────┘ detections made on an earlier frame,
//	                                                  carried to the current one by optical flow
//
// Capture never waits: it leaves each frame in a leaky mailbox, where a
// newer frame replaces one the pipeline has not taken (counted as not
// shown). The detector runs beside the pipeline (stages.AsyncDetect): it
// takes the newest keyframe when it is free, and its answer joins the
// frame then passing, carried forward from the frame it was made on.
// Names are decided causally (the tracker's look-ahead is 0).
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/identity"
	"github.com/vidtag/vidtag/internal/tidy"
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
	// Output, Sidecar and Report are not used). DetectEvery,
	// DescribeEvery and CutThreshold drive the schedule as in annotate;
	// Lookahead is not used: live names causally (the CLI rejects a
	// look-ahead for live).
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

// flowRing is how many recent flow images the tracker keeps to carry a
// late detection forward: over 2 s at 30 fps, far more than a detection
// takes.
const flowRing = 64

// maxInFlight bounds the frames between the mailbox and the display. Each
// step works on its own frame (so the steps overlap on several cores), but
// a frame waiting in a queue only adds latency: when the pipeline falls
// behind, the frames it cannot take are dropped at the mailbox, and the
// latency stays that of a few frames' work.
const maxInFlight = 3

// Session runs capture and the pipeline; the caller shows the frames it
// delivers (on the main thread, for a window) and hands each back.
type Session struct {
	opt      Options
	env      *engine.Env
	log      *zap.Logger
	cap      *capture
	frames   *pipeline.Mailbox[*stages.Frame] // capture -> pipeline: the newest frame wins
	inFlight chan struct{}                    // a slot per frame between the mailbox and the display
	out      chan *stages.Frame
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	detect   *stages.AsyncDetect
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
	// Stats are the pipeline's step timings (--stats), once Wait has
	// returned.
	Stats *pipeline.Stats
}

// Start opens the source and starts the session: capture, and the
// pipeline. Frames() delivers annotated frames until the source ends, the
// context is cancelled or Stop is called.
func Start(ctx context.Context, env *engine.Env, opt Options) (*Session, error) {
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
	s := &Session{opt: opt, env: env, log: log, cap: c, cancel: cancel, out: make(chan *stages.Frame, 1),
		frames: pipeline.NewMailbox[*stages.Frame](), inFlight: make(chan struct{}, maxInFlight), events: newEventLog(opt.Events, opt.EventHold), start: time.Now()}
	s.stats.init(c.fps)
	log.Info("live", zap.Stringer("source", opt.Source), zap.String("size", fmt.Sprintf("%dx%d", c.w, c.h)), zap.Float64("fps", c.fps),
		zap.Int("detect_every", opt.Tag.DetectEvery), zap.Float64("cut_threshold", opt.Tag.CutThreshold))

	steps, closeSteps := s.steps(ctx)
	s.wg.Add(2)
	go s.captureLoop(ctx)
	go func() {
		defer s.wg.Done()
		defer close(s.out)
		defer func() {
			if err := closeSteps(); err != nil && ctx.Err() == nil {
				s.fail(err)
			}
		}()
		// Queues of one: a frame waiting in a queue only adds latency; the
		// mailbox in front drops what the pipeline cannot take.
		st, err := pipeline.Run[*stages.Frame](ctx, pipeline.SourceFunc[*stages.Frame](s.next), steps, pipeline.Options{Queue: 1})
		if st != nil {
			st.Steps[0].Name = "mailbox" // the source: waits for capture
		}
		s.Stats = st
		s.events.close(0)
		if err != nil && ctx.Err() == nil { // not a stop: a step failed
			s.fail(err)
		}
	}()
	return s, nil
}

// steps is live's pipeline, every step in order, and a function that
// closes them after the run.
func (s *Session) steps(ctx context.Context) ([]pipeline.Step[*stages.Frame], func() error) {
	tag := s.opt.Tag
	schedule := stages.NewSchedule(tag.DetectEvery, tag.CutThreshold)
	schedule.DescribeEvery = tag.DescribeEvery
	var convert *stages.Convert // the JPEG go-face reads, for HOG only
	if tag.Detector == recog.HOGName {
		scale, _ := stages.DetectScale(s.cap.w, s.cap.h, tag.MinFace, tag.DetectPixels)
		convert = stages.NewConvert(scale, tag.JPEGQuality)
	}
	s.detect = stages.NewAsyncDetect(ctx, s.env.Engines, tag.DescribeEvery, convert, s.stats.detected)

	cfg := track.DefaultConfig()
	tol, how := annotate.Tolerance(tag.Tolerance, s.env.Gallery)
	s.log.Info("identity", zap.Float64("tolerance", tol), zap.String("picked", how))
	cfg.Rule, cfg.MaxMisses = identity.DefaultRule(tol), tag.MaxMisses
	tracker := stages.NewTrack(cfg, s.env.Gallery, s.cap.w, s.cap.h, 0)
	tracker.Keep = flowRing

	draw := stages.NewDraw(s.cap.h)
	draw.BlurredLabels = tag.BlurLabels
	overlay := newOverlay(s.cap.h)

	steps := []pipeline.Step[*stages.Frame]{
		pipeline.Serial[*stages.Frame]("schedule", schedule),
		pipeline.Serial[*stages.Frame]("detect", s.detect),
		pipeline.Hold[*stages.Frame]("track", tracker),
	}
	var hide *stages.Blur // the window and the recording alike
	if tag.Blur.On() {
		hide = stages.NewBlur(tag.Blur, tag.BlurStyle)
		steps = append(steps, pipeline.Serial[*stages.Frame]("blur", hide))
	}
	steps = append(steps, pipeline.Serial[*stages.Frame]("draw", pipeline.StageFunc[*stages.Frame](func(ctx context.Context, f *stages.Frame) error {
		s.events.update(f)
		return draw.Process(ctx, f)
	})))
	if s.opt.Record != "" {
		steps = append(steps, pipeline.Serial[*stages.Frame]("record", pipeline.StageFunc[*stages.Frame](s.record)))
	}
	steps = append(steps, pipeline.Serial[*stages.Frame]("show", pipeline.StageFunc[*stages.Frame](func(ctx context.Context, f *stages.Frame) error {
		overlay.draw(f, s.stats.live())
		// The display owns the frame from here: the runner releases an
		// empty husk.
		g := f.Move()
		select {
		case s.out <- g:
		case <-ctx.Done():
			g.Release()
		}
		<-s.inFlight
		return nil
	})))
	return steps, func() error {
		err := s.detect.Close()
		schedule.Close()
		if convert != nil {
			convert.Close()
		}
		tracker.Close()
		if hide != nil {
			hide.Close()
		}
		return err
	}
}

// next is the pipeline's source: the newest frame capture has left, io.EOF
// once capture has ended.
func (s *Session) next(ctx context.Context) (*stages.Frame, error) {
	select { // a slot first: meanwhile capture replaces the waiting frame
	case s.inFlight <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f, ok := s.frames.Take(ctx)
	if !ok {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, io.EOF
	}
	return f, nil
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
	s.cancel()
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
	rep := s.stats.report(time.Since(s.start), s.detect.Offered(), s.detect.Dropped(), s.frames.Dropped())
	rep.Source = s.opt.Source.String()
	if e := s.failed(); e != nil {
		return rep, e
	}
	return rep, err
}

// RunHeadless runs a session with no window: a frame counts as shown when
// it is complete.
func RunHeadless(ctx context.Context, env *engine.Env, opt Options) (*Report, error) {
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

// captureLoop reads frames and leaves each in the pipeline's mailbox. It
// never waits for the pipeline: a frame not yet taken when the next one
// comes is dropped (showing it would only add latency).
func (s *Session) captureLoop(ctx context.Context) {
	defer s.wg.Done()
	defer s.frames.Close()
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
		s.frames.Put(f)
	}
}

// record writes the annotated frame (before the overlay) to the MP4.
func (s *Session) record(ctx context.Context, f *stages.Frame) error {
	err := s.write(ctx, f)
	if err != nil && ctx.Err() == nil {
		s.errMu.Lock()
		s.recErr = s.err == nil
		s.errMu.Unlock()
	}
	return err
}

func (s *Session) write(ctx context.Context, f *stages.Frame) error {
	if s.recorder == nil {
		tag := s.opt.Tag
		tag.Force = s.opt.Force
		wo := annotate.VideoWriter(tag, s.opt.Record, s.cap.w, s.cap.h, media.Rational{Num: int(math.Round(s.cap.fps * 1000)), Den: 1000})
		w, err := media.NewWriter(wo)
		if err != nil {
			return err
		}
		s.recorder, s.encode = w, stages.NewEncode(w, wo.I420)
	}
	return s.encode.Process(ctx, f)
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
	b, _ := json.Marshal(Event{Time: tidy.Round(at.Seconds(), 3), Wall: time.Now().UTC().Format(time.RFC3339Nano),
		Event: kind, Label: label, Track: id})
	e.w.Write(append(b, '\n'))
}
