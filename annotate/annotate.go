// Package annotate turns one recorded video into an annotated MP4, a
// per-frame sidecar and a run report. This file is the whole shape of the
// pipeline:
//
//	read ─► schedule ─► convert ─► detect ×N ─► track ─► record ─► draw ─► encode
//	(gocv)  keyframes,  resize +    go-face,     flow +    sidecar   boxes,  ffmpeg
//	        shot cuts   JPEG (RGB)  one per      identity  JSON      names   H.264+audio
//	                    for dlib    worker       look-ahead
//
// Every stage is a goroutine (package pipeline); frames flow through bounded
// channels, in order; the detector pool works on keyframes in parallel and
// restores order. Outputs are written under temporary names and renamed into
// place only when the run completes.
package annotate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"go.uber.org/zap"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/pipeline"
	"github.com/vidtag/vidtag/recog"
	"github.com/vidtag/vidtag/stages"
	"github.com/vidtag/vidtag/track"
)

// Env is what runs share: loaded once per process.
type Env struct {
	Engines *recog.Pool // detector engines, lent per keyframe
	Gallery *gallery.Gallery
	Log     *zap.Logger
}

// Options are one run's settings. Zero values are not defaults: the CLI
// fills every field from flags, environment, config file or built-in default.
type Options struct {
	Input       string
	Output      string    // annotated MP4; "" with SidecarOnly
	Sidecar     string    // JSON lines; "-" writes to Stdout
	Stdout      io.Writer // where "-" goes
	Report      string    // run report JSON; "" for none
	Force       bool      // overwrite existing outputs
	SidecarOnly bool      // skip the video (fast indexing)

	Tolerance    float64       // max distance to a known face
	DetectEvery  int           // frames between keyframes
	MinFace      int           // smallest face to find, px
	DetectPixels float64       // cap on pixels per detection (cost)
	Lookahead    time.Duration // how far ahead naming may look
	CutThreshold float64       // shot-cut sensitivity (0 disables)
	MaxMisses    int           // keyframes a track may go undetected
	JPEGQuality  int
	Preset       string // x264 preset, or "auto" (see EncoderPreset)
	CRF          int
	// EncoderThreads caps x264's threads (0: ffmpeg's choice), so that
	// several runs in one process do not oversubscribe the cores.
	EncoderThreads int
	// Settings identifies every setting that changes the outputs; it is
	// recorded in the report (see batch).
	Settings string

	// Progress, when set, is called after each frame with frames done and
	// the expected total (0 if unknown).
	Progress func(done, total int)
}

// Defaults are the built-in settings, chosen from measurements (README,
// "Performance"); the CLI's flags start from them.
func Defaults() Options {
	return Options{
		Tolerance:    0.6,
		DetectEvery:  30,
		MinFace:      29,
		DetectPixels: 2.1e6,
		Lookahead:    time.Second,
		CutThreshold: 20,
		MaxMisses:    2,
		JPEGQuality:  92,
		Preset:       "auto",
		CRF:          20,
	}
}

// EncoderPreset resolves the "auto" x264 preset for w x h frames: veryfast
// (small files) up to 720p; superfast from 1.5 megapixels, where veryfast
// alone needs about 4 of the 10 CPU-seconds that real time leaves on two
// cores for a 5-second 1080p clip (README, "Performance").
func EncoderPreset(preset string, w, h int) string {
	if preset != "auto" {
		return preset
	}
	if w*h >= 1_500_000 {
		return "superfast"
	}
	return "veryfast"
}

// Result describes a finished (or truncated) run.
type Result struct {
	Input, Output, Sidecar string
	Frames                 int
	FramesExpected         int // what the container claims
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
}

// Prepare probes the input and checks that every output can be written.
func Prepare(ctx context.Context, opt Options) (*Plan, error) {
	if err := Check(opt); err != nil {
		return nil, err
	}
	info, err := media.Probe(ctx, opt.Input)
	if err != nil {
		return nil, err
	}
	src, err := SourceOf(opt.Input)
	if err != nil {
		return nil, err
	}
	scale, smallest := stages.DetectScale(info.Width, info.Height, opt.MinFace, opt.DetectPixels)
	if err := stages.ValidateScale(info.Width, info.Height, scale); err != nil {
		return nil, fmt.Errorf("%s: %w", opt.Input, err)
	}
	return &Plan{Options: opt, Info: info, Source: src, Scale: scale, Smallest: smallest}, nil
}

// Check is the part of Prepare that takes no time (no ffprobe): the input
// can be read and the outputs written.
func Check(opt Options) error {
	if err := media.CheckReadable(opt.Input); err != nil {
		return err
	}
	for _, p := range []string{opt.Output, sidecarFile(opt.Sidecar), opt.Report} {
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
func Run(ctx context.Context, env *Env, plan *Plan) (*Result, error) {
	start := time.Now()
	opt, info, scale, smallest := plan.Options, plan.Info, plan.Scale, plan.Smallest
	log := env.Log
	if log == nil {
		log = zap.NewNop()
	}
	log.Info("input", zap.String("path", opt.Input), zap.String("size", fmt.Sprintf("%dx%d", info.Width, info.Height)),
		zap.Stringer("fps", info.FrameRate), zap.Int("frames", info.Frames), zap.Bool("audio", info.HasAudio()),
		zap.Float64("detect_scale", scale), zap.Float64("smallest_face_px", math.Round(smallest)))

	reader, err := stages.OpenReader(info)
	if err != nil {
		return nil, err
	}
	defer reader.Close()

	// Outputs, all under temporary names until the end.
	var video *media.Writer
	if !opt.SidecarOnly {
		wo := media.WriterOptions{Path: opt.Output, Width: info.Width, Height: info.Height, FrameRate: info.FrameRate,
			Start: info.VideoStart, Preset: EncoderPreset(opt.Preset, info.Width, info.Height), CRF: opt.CRF, Force: opt.Force,
			Threads: opt.EncoderThreads,
			I420:    info.Width%2 == 0 && info.Height%2 == 0}
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
	defer schedule.Close()
	convert := stages.NewConvert(scale, opt.JPEGQuality)
	defer convert.Close()
	// As many detector workers as the pool may hold engines; they borrow
	// one per keyframe.
	detect := &stages.Detect{Pool: env.Engines}
	detectors := make([]pipeline.Stage[*stages.Frame], env.Engines.Max())
	for i := range detectors {
		detectors[i] = detect
	}
	tcfg := track.DefaultConfig()
	tcfg.Tolerance, tcfg.MaxMisses = opt.Tolerance, opt.MaxMisses
	lookahead := int(math.Round(opt.Lookahead.Seconds() * info.FrameRate.Float()))
	tracker := stages.NewTrack(tcfg, env.Gallery, info.Width, info.Height, lookahead)
	defer tracker.Close()
	record := stages.NewSidecar(sidecarOut)

	steps := []pipeline.Step[*stages.Frame]{
		pipeline.Serial("schedule", pipeline.Stage[*stages.Frame](schedule)),
		pipeline.Serial("convert", pipeline.Stage[*stages.Frame](convert)),
		{Name: "detect", Workers: detectors},
		pipeline.Hold("track", pipeline.Holder[*stages.Frame](tracker)),
		pipeline.Serial("record", pipeline.Stage[*stages.Frame](record)),
	}
	if video != nil {
		encode := stages.NewEncode(video, info.Width%2 == 0 && info.Height%2 == 0)
		defer encode.Close()
		steps = append(steps,
			pipeline.Serial("draw", pipeline.Stage[*stages.Frame](stages.NewDraw(info.Height))),
			pipeline.Serial("encode", pipeline.Stage[*stages.Frame](encode)))
	}
	if opt.Progress != nil {
		steps[len(steps)-1] = withProgress(steps[len(steps)-1], opt.Progress, info.Frames)
	}
	// Window: room for two keyframes in flight (one per engine on two
	// cores) while the frames between them pass; more only costs memory
	// (a 1080p frame is 6 MB).
	window := opt.DetectEvery + 2*len(detectors) + 2
	stats, err := pipeline.Run(ctx, pipeline.Source[*stages.Frame](reader), steps, pipeline.Options{Queue: 2, Window: window})
	stats.Steps[0].Name = "read"
	if err != nil {
		return nil, err
	}
	if err := record.Flush(); err != nil {
		return nil, fmt.Errorf("sidecar: %w", err)
	}

	t := record.Tally
	res := &Result{Input: opt.Input, Output: opt.Output, Sidecar: opt.Sidecar,
		Frames: t.Frames, FramesExpected: info.Frames, Truncated: reader.Truncated(),
		FrameRate: info.FrameRate.Float(), Faces: t.Faces, UnknownFaces: t.UnknownFaces, Tracks: len(t.Tracks), People: t.People,
		DetectScale: scale, SmallestFace: smallest, Stats: stats, Source: plan.Source, Settings: opt.Settings}
	if res.FrameRate > 0 {
		res.Duration = float64(res.Frames) / res.FrameRate
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
	res.Wall = time.Since(start)
	if opt.Report != "" {
		if err := WriteReport(opt.Report, res); err != nil {
			removePublished(opt.Sidecar)
			return nil, err
		}
	}
	if video != nil {
		if err := video.Commit(); err != nil {
			removePublished(opt.Sidecar, opt.Report)
			return nil, err
		}
	}
	if res.Truncated {
		return res, fmt.Errorf("%s: %w: decoded %d of the %d frames its header claims; the outputs hold those %d",
			opt.Input, ErrTruncated, res.Frames, res.FramesExpected, res.Frames)
	}
	return res, nil
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
	f, err := renameio.NewPendingFile(opt.Sidecar, renameio.WithTempDir(filepath.Dir(opt.Sidecar)), renameio.WithPermissions(0o644))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot write here: %w", opt.Sidecar, err)
	}
	done := false
	return f, func(ok bool) error {
		if done {
			return nil
		}
		done = true
		if ok {
			return f.CloseAtomicallyReplace()
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
