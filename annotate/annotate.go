// Package annotate turns one recorded video into an annotated MP4, a
// per-frame sidecar and a run report. This file is the whole shape of the
// pipeline (Run lists the steps in order):
//
//	read ─► schedule ─► [convert] ─► detect ×N ─► track ─► [blur] ─► record ─► [people] ─► draw ─► encode
//	(gocv)  keyframes,   hog only:    engines     flow +    policy    sidecar   track      boxes,  ffmpeg
//	        shot cuts,   resize +     from the    identity, (--blur)  JSON      means,     names   H.264
//	        described    JPEG for     pool: CNN   look-                         crops               +audio
//	        keyframes    go-face      + dlib      ahead,
//	                                  descriptor  backfill
//
// Every step is a goroutine (package pipeline); frames flow through bounded
// channels, in order; the detect step's workers borrow engines from the
// shared pool (engine.Env) on keyframes in parallel, and the runner
// restores order. The settings come from package settings. Outputs are
// written under temporary names and renamed into place only when the run
// completes. The people step writes the people file; the VTT, subtitle
// stream and review page are made from it after Run (people.UnifyFiles).
package annotate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/blur"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/people"
	"github.com/vidtag/vidtag/pipeline"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/stages"
	"github.com/vidtag/vidtag/track"
	"github.com/vidtag/vidtag/ultraface"
)

// Options are one run's settings. Zero values are not defaults: package
// settings fills the tagging fields (settings.Defaults().Annotate(), or the
// CLI's flags, environment and config file), the caller the run's files.
type Options struct {
	Input       string
	Output      string    // annotated MP4; "" with SidecarOnly
	Sidecar     string    // JSON lines; "-" writes to Stdout
	Stdout      io.Writer // where "-" goes
	Report      string    // run report JSON; "" for none
	Force       bool      // overwrite existing outputs
	SidecarOnly bool      // skip the video (fast indexing)
	// People is the people file to write (package people: each track's
	// descriptor and best face crop, for clusters, subtitles and the
	// review page); "" for none. Name is the video as reports name it.
	People     string
	PeopleBase string // the outputs' stem: out/x for out/x.mp4
	Name       string
	// Subtitles: the people step writes OUTPUT.vtt and muxes it into the
	// MP4 as a mov_text stream.
	Subtitles bool

	Detector      string        // recog.UltraFace or recog.HOGName
	Tolerance     float64       // max distance to a known person; 0: auto (identity.Calibrate)
	DetectEvery   int           // frames between keyframes
	DescribeEvery int           // least frames between keyframes whose faces are described (CNN)
	MinFace       int           // smallest face to find, px
	DetectPixels  float64       // cap on pixels per detection (cost)
	Lookahead     time.Duration // how far ahead naming may look
	CutThreshold  float64       // shot-cut sensitivity (0 disables)
	MaxMisses     int           // keyframes a track may go undetected
	JPEGQuality   int
	Preset        string // x264 preset, or "auto" (see EncoderPreset)
	CRF           int
	// EncoderThreads caps x264's threads (0: ffmpeg's choice), so that
	// several runs in one process do not oversubscribe the cores.
	EncoderThreads int
	// Blur hides faces in the video (package blur); BlurStyle is how, and
	// BlurLabels draws box and name on blurred faces too. The sidecar says
	// which faces were blurred. Without a video (SidecarOnly) it does
	// nothing, with a warning.
	Blur       blur.Policy
	BlurStyle  blur.Style
	BlurLabels bool
	// Settings identifies every setting that changes the outputs; it is
	// recorded in the report (see batch).
	Settings string
	// FrameMemory is the budget, in bytes, for decoded frames in flight
	// (0: DefaultFrameMemory). It bounds the pipeline's window and, for
	// very large frames, shortens the look-ahead (see FrameBudget).
	FrameMemory int64
	// Cohort is strangers from elsewhere (the unnamed tracks of a batch's
	// other videos): part of every track's crowd (package identity). It is
	// not a setting: the report records its digest.
	Cohort []gallery.Descriptor
	// Tracks, when set, is where the run writes its TrackFile (private:
	// descriptors).
	Tracks string

	// Progress, when set, is called after each frame with frames done and
	// the expected total (0 if unknown).
	Progress func(done, total int)
}

// DefaultFrameMemory is the default budget for decoded frames: room for
// every frame the pipeline wants up to 1440p; 4K frames (25 MB each) get
// 25 slots, which keeps a 4K run, x264 in it, under 1.5 GB.
const DefaultFrameMemory = 608 << 20

// FrameBudget splits a budget of budget bytes for w x h frames between the
// pipeline's parts: frames is how many decoded frames may be in flight at
// once, window how many the detector step may hold, and lookahead the
// tracker's look-ahead in frames, at most want. Memory then depends on the
// budget, not on frame size times window. The floor (two frames per
// detector worker plus a few in the queues) is kept even when the budget is
// smaller, so that the pipeline always moves.
func FrameBudget(budget int64, w, h, workers, detectEvery, want int) (frames, window, lookahead int) {
	if budget <= 0 {
		budget = DefaultFrameMemory
	}
	floor := 2*workers + 6
	frames = int(budget / int64(max(w*h*3, 1)))
	lookahead = max(0, min(want, frames-floor))
	// The window wants two keyframes in flight while the frames between
	// them pass; the pool bounds the total anyway.
	window = detectEvery + 2*workers + 2
	frames = max(frames, floor+lookahead)
	window = max(min(window, frames-lookahead-2), 2*workers)
	return frames, window, lookahead
}

// IndexWindow is the detector step's window without a video
// (--sidecar-only), from the window FrameBudget gave: room for four
// keyframes per engine, within the frames the reader's pool may have out.
// There the run is held back not by x264 but by detection coming in
// bursts (one to three network passes a keyframe, none between), and only
// keyframes with a face keep their pixels in the tracker's look-ahead
// (Track.DropPixels), so most of the budget is free. A window of two
// keyframes left an engine idle while the other described a keyframe
// (720p index 2.45 s against 2.33, side by side).
func IndexWindow(window, frames, workers, detectEvery int) int {
	return max(window, min(4*workers*max(detectEvery, 1), frames-8))
}

// EncoderPreset resolves the "auto" x264 preset for w x h frames: veryfast
// (small files) up to 720p; superfast from 1.5 megapixels, where veryfast
// alone needs about 4 of the 10 CPU-seconds that real time leaves on two
// cores for a 5-second 1080p clip (README, "Performance").
func EncoderPreset(preset string, w, h int) string {
	if preset != "auto" {
		return preset
	}
	if w*h >= largeFrame {
		return "superfast"
	}
	return "veryfast"
}

// largeFrame (pixels) is where the encoder turns to speed and memory.
const largeFrame = 1_500_000

// VideoWriter is the MP4 writer set-up annotate and live share: w x h
// frames at rate to path, with opt's encoder settings (EncoderPreset, CRF,
// threads), handed over as planar YUV 4:2:0 when both sides are even
// (stages.Encode converts).
//
// From 1.5 megapixels x264 (in this process) is held to less memory: one
// thread per core, not 1.5, and, at the presets without a rate-control
// lookahead (superfast, ultrafast), no lookahead thread, which there only
// buffers frames (the stream is bit for bit the same). x264 keeps 20-25
// bytes a pixel for each frame it holds: together 75 MB of a 1080p run's
// 850 MB, at the same speed side by side.
func VideoWriter(opt Options, path string, w, h int, rate media.Rational) media.WriterOptions {
	o := media.WriterOptions{Path: path, Width: w, Height: h, FrameRate: rate, Preset: EncoderPreset(opt.Preset, w, h),
		CRF: opt.CRF, Force: opt.Force, Threads: opt.EncoderThreads, I420: w%2 == 0 && h%2 == 0}
	if w*h >= largeFrame {
		if o.Threads == 0 {
			o.Threads = runtime.NumCPU()
		}
		if o.Preset == "superfast" || o.Preset == "ultrafast" {
			o.X264Params = "sync-lookahead=0"
		}
	}
	return o
}

// Result describes a finished (or truncated) run.
type Result struct {
	Input, Output, Sidecar string
	Frames                 int
	FramesExpected         int    // what the file stores (0: no count)
	FramesFrom             string // how FramesExpected was known (stages.Completeness.Source)
	Truncated              bool
	FrameRate              float64
	Duration               float64 // seconds of video
	Faces                  int
	UnknownFaces           int
	Tracks                 int
	People                 map[string]int // known label -> frames
	Wall                   time.Duration
	DetectScale            float64
	SmallestFace           float64
	Stats                  *pipeline.Stats
	Source                 Source // the input's size and time when the run started
	Settings               string
	Tolerance              float64 // the tolerance used
	ToleranceAuto          bool    // picked by --tolerance auto
	Cohort                 string  // CohortDigest of Options.Cohort
}

// Tolerance resolves a tolerance setting: 0 means auto, calibrated from the
// known faces in g (identity.Calibrate). It also says how it was picked.
func Tolerance(setting float64, g *gallery.Gallery) (float64, string) {
	if setting > 0 {
		return setting, "set by --tolerance"
	}
	c := identity.Calibrate(identity.FromGallery(g))
	return c.Tolerance, "auto: " + c.String()
}

// ClusterCut is the distance under which strangers' tracks are grouped
// (package people): the identity tolerance tol, lowered to how close
// different known people come to each other (identity.Calibration's
// Between, the 5% quantile) when that is smaller. On a population the
// model crowds together the cut shrinks with it, so that two strangers
// are grouped only when they are closer than the known people are to
// one another.
func ClusterCut(tol float64, g *gallery.Gallery) float64 {
	c := identity.Calibrate(identity.FromGallery(g))
	if !math.IsNaN(c.Between) && c.Between < tol {
		return tidy.Round(c.Between, 3)
	}
	return tol
}

// FPS is frames processed per wall-clock second.
func (r *Result) FPS() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.Frames) / r.Wall.Seconds()
}

// ErrTruncated marks an input that stopped decoding early; the outputs hold
// the frames that did decode.
var ErrTruncated = errors.New("truncated")

// Plan is a checked run: the input is a video and the outputs can be
// written. Making one takes an ffprobe (~0.2 s) and no models.
type Plan struct {
	Options
	Info     *media.Info
	Source   Source
	Scale    float64 // detection scale
	Smallest float64 // smallest face found at that scale, px
	locks    outfile.Locks
}

// Release releases the plan's output locks; Run does it when it ends. It
// is safe to call twice.
func (p *Plan) Release() {
	p.locks.Release()
	p.locks = nil
}

// Prepare probes the input, checks that every output can be written and
// locks them (a second run writing one of them is refused until this plan
// is Run or Released). Temporary files that killed runs left for these
// outputs are removed.
func Prepare(ctx context.Context, opt Options) (*Plan, error) {
	if err := Check(opt); err != nil {
		return nil, err
	}
	outs := []string{opt.Output, sidecarFile(opt.Sidecar), opt.Report, opt.Tracks, opt.People}
	locks, err := outfile.AcquireAll(outs...)
	if err != nil {
		return nil, err
	}
	for _, p := range outs {
		if p != "" {
			outfile.RemoveStale(p)
		}
	}
	plan, err := prepare(ctx, opt)
	if err != nil {
		locks.Release()
		return nil, err
	}
	plan.locks = locks
	return plan, nil
}

func prepare(ctx context.Context, opt Options) (*Plan, error) {
	info, err := media.Probe(ctx, opt.Input)
	if err != nil {
		return nil, err
	}
	src, err := SourceOf(opt.Input)
	if err != nil {
		return nil, err
	}
	scale, smallest, err := DetectScale(opt, info.Width, info.Height)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", opt.Input, err)
	}
	return &Plan{Options: opt, Info: info, Source: src, Scale: scale, Smallest: smallest}, nil
}

// DetectScale is the scale at which the HOG detector sees w x h frames (1
// for the CNN, which plans its own windows), and the smallest face the
// detector will find, px.
func DetectScale(opt Options, w, h int) (scale, smallest float64, err error) {
	if opt.Detector == recog.HOGName {
		scale, smallest = stages.DetectScale(w, h, opt.MinFace, opt.DetectPixels)
		return scale, smallest, stages.ValidateScale(w, h, scale)
	}
	return 1, ultraface.NewPlan(w, h, opt.MinFace).Smallest, nil
}

// Check is the part of Prepare that takes no time (no ffprobe): the input
// can be read, no output is the input or another output (an error
// wrapping outfile.ErrIsInput or ErrSamePath, whatever Force says), and
// the outputs can be written.
func Check(opt Options) error {
	if err := media.CheckReadable(opt.Input); err != nil {
		return err
	}
	if err := outfile.CheckInputs([]string{opt.Input}, map[string]string{
		"-o": opt.Output, "--sidecar": sidecarFile(opt.Sidecar), "--report": opt.Report, "tracks": opt.Tracks, "people file": opt.People}); err != nil {
		return err
	}
	for _, p := range []string{opt.Output, sidecarFile(opt.Sidecar), opt.Report, opt.Tracks, opt.People} {
		if p != "" {
			if err := media.CheckWritable(p, opt.Force); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run annotates the planned input. On ErrTruncated the outputs are complete
// for the frames that decoded; on any other error no output is left behind.
func Run(ctx context.Context, env *engine.Env, plan *Plan) (*Result, error) {
	defer plan.Release()
	start := time.Now()
	opt, info, scale, smallest := plan.Options, plan.Info, plan.Scale, plan.Smallest
	log := env.Log
	if log == nil {
		log = zap.NewNop()
	}
	log.Info("input", zap.String("path", opt.Input), zap.String("size", fmt.Sprintf("%dx%d", info.Width, info.Height)),
		zap.Stringer("fps", info.FrameRate), zap.Int("frames", info.Frames), zap.Bool("audio", info.HasAudio()),
		zap.String("detector", opt.Detector), zap.Float64("detect_scale", scale), zap.Float64("smallest_face_px", math.Round(smallest)))

	if info.Rotation != 0 {
		log.Info("rotated input: frames are turned upright; boxes are in the displayed frame's pixels",
			zap.Int("rotation", info.Rotation), zap.String("displayed", fmt.Sprintf("%dx%d", info.Width, info.Height)))
	}
	workers := env.Engines.Max()
	want := int(math.Round(opt.Lookahead.Seconds() * info.FrameRate.Float()))
	maxFrames, window, lookahead := FrameBudget(opt.FrameMemory, info.Width, info.Height, workers, opt.DetectEvery, want)
	if lookahead < want {
		log.Info("frame memory budget shortens the look-ahead", zap.Int("frames", maxFrames), zap.Int("lookahead", lookahead), zap.Int("wanted", want))
	}
	reader, err := stages.OpenReader(info, maxFrames)
	if err != nil {
		return nil, err
	}
	defer reader.Close()

	// Outputs, all under temporary names until the end.
	var video *media.Writer
	if !opt.SidecarOnly {
		wo := VideoWriter(opt, opt.Output, info.Width, info.Height, info.FrameRate)
		wo.Start, wo.TimeScale = info.VideoStart, info.TimeBase.Den
		if w, h := media.EncodedSize(info.Width, info.Height); w != info.Width || h != info.Height {
			log.Info("odd frame size: the video gets a black column on the right or row at the bottom; the sidecar keeps the source's pixels",
				zap.String("source", fmt.Sprintf("%dx%d", info.Width, info.Height)), zap.String("video", fmt.Sprintf("%dx%d", w, h)))
		}
		if info.HasAudio() {
			wo.AudioFrom, wo.AudioCodec = opt.Input, info.AudioCodec
		}
		if video, err = media.NewWriter(wo); err != nil {
			return nil, err
		}
		defer video.Abort() // no-op after Commit
	}
	sidecarOut, commitSidecar, err := openSidecar(opt)
	if err != nil {
		return nil, err
	}
	defer commitSidecar(false)

	// The stages.
	schedule := stages.NewSchedule(opt.DetectEvery, opt.CutThreshold)
	schedule.DescribeEvery = opt.DescribeEvery
	defer schedule.Close()
	var convert *stages.Convert // the JPEG that go-face reads, for HOG only
	if opt.Detector == recog.HOGName {
		convert = stages.NewConvert(scale, opt.JPEGQuality)
		defer convert.Close()
	}
	// As many detector workers as the pool may hold engines; they borrow
	// one per keyframe.
	detect := &stages.Detect{Pool: env.Engines}
	detectors := make([]pipeline.Stage[*stages.Frame], workers)
	for i := range detectors {
		detectors[i] = detect
	}
	tcfg := track.DefaultConfig()
	tol, how := Tolerance(opt.Tolerance, env.Gallery)
	log.Info("identity", zap.Float64("tolerance", tol), zap.String("picked", how))
	tcfg.Rule, tcfg.MaxMisses, tcfg.Cohort = identity.DefaultRule(tol), opt.MaxMisses, opt.Cohort
	tracker := stages.NewTrack(tcfg, env.Gallery, info.Width, info.Height, lookahead)
	defer tracker.Close()
	tracker.DropPixels = video == nil
	// Without a video only keyframes are looked at: the others are never
	// converted to BGR (the cut detector and the flow read the luma).
	reader.KeyframesOnly = video == nil
	record := stages.NewSidecar(sidecarOut)
	var hide *stages.Blur // before the sidecar, which records what it blurred
	if opt.Blur.On() && video == nil {
		log.Warn("--blur does nothing without a video (--sidecar-only): nothing is blurred and the sidecar has no \"blurred\"")
	} else if opt.Blur.On() {
		hide = stages.NewBlur(opt.Blur, opt.BlurStyle)
		defer hide.Close()
		tracker.BlurBackfill = true
		log.Info("blur", zap.Stringer("faces", opt.Blur), zap.Stringer("style", opt.BlurStyle), zap.Bool("labels", opt.BlurLabels))
	}
	var collect *people.Collector
	if opt.People != "" {
		collect = people.NewCollector()
	}

	steps := []pipeline.Step[*stages.Frame]{pipeline.Serial("schedule", pipeline.Stage[*stages.Frame](schedule))}
	if convert != nil {
		steps = append(steps, pipeline.Serial("convert", pipeline.Stage[*stages.Frame](convert)))
	}
	steps = append(steps, []pipeline.Step[*stages.Frame]{
		{Name: "detect", Workers: detectors},
		pipeline.Hold("track", pipeline.Holder[*stages.Frame](tracker)),
	}...)
	if hide != nil {
		steps = append(steps, pipeline.Serial("blur", pipeline.Stage[*stages.Frame](hide)))
	}
	steps = append(steps, pipeline.Serial("record", pipeline.Stage[*stages.Frame](record)))
	if collect != nil {
		steps = append(steps, pipeline.Serial("people", pipeline.Stage[*stages.Frame](collect)))
	}
	if video != nil {
		encode := stages.NewEncode(video, info.Width%2 == 0 && info.Height%2 == 0)
		defer encode.Close()
		draw := stages.NewDraw(info.Height)
		draw.BlurredLabels = opt.BlurLabels
		steps = append(steps,
			pipeline.Serial("draw", pipeline.Stage[*stages.Frame](draw)),
			pipeline.Serial("encode", pipeline.Stage[*stages.Frame](encode)))
	}
	if opt.Progress != nil {
		steps[len(steps)-1] = withProgress(steps[len(steps)-1], opt.Progress, info.Frames)
	}
	// Window: room for two keyframes in flight (one per engine on two
	// cores) while the frames between them pass, within the frame budget
	// that the reader's pool enforces (a 1080p frame is 6 MB). Queue: one
	// frame between steps; the window and the look-ahead are the slack.
	// Every frame in flight is a buffer the reader's pool must fill for the
	// first time, and fresh memory costs 1-3 ms a megabyte here (the kernel
	// maps and zeroes it): queues of 2 held 12 frames more, 75 MB at 1080p
	// (1080p 0.5-4.5% slower in two rounds side by side; 720p and Hamilton
	// alike).
	queue := 1
	if video == nil {
		window, queue = IndexWindow(window, maxFrames, workers, opt.DetectEvery), 2
	}
	stats, err := pipeline.Run(ctx, pipeline.Source[*stages.Frame](reader), steps, pipeline.Options{Queue: queue, Window: window})
	stats.Steps[0].Name = "read"
	if err != nil {
		return nil, err
	}
	if err := record.Flush(); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}

	done, err := reader.Check(ctx)
	if err != nil {
		return nil, err
	}
	t := record.Tally
	res := &Result{Input: opt.Input, Output: opt.Output, Sidecar: opt.Sidecar,
		Frames: t.Frames, FramesExpected: done.Expected, FramesFrom: done.Source, Truncated: done.Truncated,
		FrameRate: info.FrameRate.Float(), Faces: t.Faces, UnknownFaces: t.UnknownFaces, Tracks: len(t.Tracks), People: t.People,
		DetectScale: scale, SmallestFace: smallest, Stats: stats, Source: plan.Source, Settings: opt.Settings,
		Tolerance: tol, ToleranceAuto: opt.Tolerance == 0, Cohort: CohortDigest(opt.Cohort)}
	if res.FrameRate > 0 && res.Frames > 0 {
		// From the timestamps: a variable frame rate's pauses count.
		res.Duration = t.LastPTS.Seconds() + 1/res.FrameRate
	}
	// Commit order: the video is finished (under its temporary name), then
	// the sidecar and the report go into place, then the video. A crash in
	// between leaves a sidecar without its video (which batch redoes),
	// never a video without its sidecar.
	if video != nil {
		if err := video.Finish(); err != nil {
			return nil, err
		}
	}
	if err := commitSidecar(true); err != nil {
		return nil, err
	}
	if collect != nil {
		sidecar := sidecarFile(opt.Sidecar)
		if _, err := collect.Write(opt.People, people.Meta{Base: opt.PeopleBase, Input: opt.Input, Name: opt.Name, Video: opt.Output, Sidecar: sidecar,
			Report: opt.Report, Cut: ClusterCut(tol, env.Gallery), Subtitles: opt.Subtitles, FrameRate: res.FrameRate}); err != nil {
			removePublished(opt.Sidecar)
			removePeople(opt)
			return nil, err
		}
	}
	res.Wall = time.Since(start)
	if opt.Tracks != "" {
		if err := writeTrackFile(opt.Tracks, newTrackFile(tracker.Summaries(), res.Cohort)); err != nil {
			removePublished(opt.Sidecar)
			removePeople(opt)
			return nil, err
		}
	}
	if opt.Report != "" {
		if err := WriteReport(opt.Report, res); err != nil {
			removePublished(opt.Sidecar, opt.Tracks)
			removePeople(opt)
			return nil, err
		}
	}
	if video != nil {
		if err := video.Commit(); err != nil {
			removePublished(opt.Sidecar, opt.Tracks, opt.Report)
			removePeople(opt)
			return nil, err
		}
	}
	if res.Truncated {
		return res, fmt.Errorf("%s: %w: %s; the outputs hold those %d", opt.Input, ErrTruncated, done.Reason, res.Frames)
	}
	return res, nil
}

// RemoveOutputs takes back every output of a run that Run put in place,
// for a step after Run that fails (the people step's VTT, page or remux):
// none of a failed run's outputs may be left.
func RemoveOutputs(opt Options) {
	removePublished(opt.Output, opt.Sidecar, opt.Tracks, opt.Report)
	removePeople(opt)
}

// removePeople removes what the people step wrote (package people).
func removePeople(opt Options) {
	if opt.People == "" {
		return
	}
	base := opt.PeopleBase
	if base == "" {
		base = strings.TrimSuffix(opt.People, people.FileSuffix)
	}
	for _, p := range people.Outputs(base) {
		os.RemoveAll(p)
	}
}

// removePublished takes back outputs already put in place when a later
// one fails: none of a failed run's outputs may be left.
func removePublished(paths ...string) {
	for _, p := range paths {
		if p := sidecarFile(p); p != "" {
			os.Remove(p)
		}
	}
}

// sidecarFile is the file a sidecar setting writes, "" for stdout or none.
func sidecarFile(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// DefaultSidecar is OUTPUT.jsonl for OUTPUT.mp4.
func DefaultSidecar(output string) string {
	return strings.TrimSuffix(output, filepath.Ext(output)) + ".jsonl"
}

// openSidecar returns the sidecar's writer and a function that commits
// (true) or discards (false) it; only the first call to it counts.
func openSidecar(opt Options) (io.Writer, func(bool) error, error) {
	switch opt.Sidecar {
	case "":
		return nil, func(bool) error { return nil }, nil
	case "-":
		return opt.Stdout, func(bool) error { return nil }, nil
	}
	f, err := outfile.Create(opt.Sidecar, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot write here: %w", opt.Sidecar, outfile.UnwrapPathError(err))
	}
	done := false
	return f, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if ok {
			if err := f.Commit(); err != nil {
				return fmt.Errorf("%s: %w", opt.Sidecar, outfile.UnwrapPathError(err))
			}
			return nil
		}
		f.Cleanup()
		return nil
	}, nil
}

// withProgress wraps the last step so it reports each finished frame.
func withProgress(step pipeline.Step[*stages.Frame], progress func(int, int), total int) pipeline.Step[*stages.Frame] {
	inner := step.Workers[0]
	done := 0
	step.Workers = []pipeline.Stage[*stages.Frame]{pipeline.StageFunc[*stages.Frame](func(ctx context.Context, f *stages.Frame) error {
		if err := inner.Process(ctx, f); err != nil {
			return err
		}
		done++
		progress(done, total)
		return nil
	})}
	return step
}
