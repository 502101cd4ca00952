package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/people"
)

// annotateCommand: vidtag annotate INPUT -o OUTPUT.mp4 --known DIR
//
// Writes OUTPUT.mp4 (H.264, yuv420p, +faststart, the input's size, frame
// count, frame rate and audio) with a labelled box on every face, and a
// JSON-lines sidecar with one object per decoded frame.
func annotateCommand() *cli.Command {
	flags := append(append([]cli.Flag{
		&cli.PathFlag{Name: "output", Aliases: []string{"o"}, Usage: "annotated MP4 to write (required)"},
		&cli.StringFlag{Name: "sidecar", Usage: "per-frame JSON lines to write, or - for stdout (default: OUTPUT with .jsonl)"},
		&cli.PathFlag{Name: "report", Usage: "write a JSON run report here"},
		&cli.BoolFlag{Name: "force", Usage: "overwrite existing outputs"},
	}, tagFlags()...), videoFlags()...)
	return &cli.Command{
		Name:         "annotate",
		Usage:        "tag a recorded video: annotated MP4 + per-frame sidecar",
		ArgsUsage:    "INPUT",
		Flags:        flags,
		Before:       loadConfig(flags),
		OnUsageError: onUsageError,
		Action:       runAnnotate,
	}
}

func runAnnotate(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("annotate takes one INPUT video, got %d arguments (see 'vidtag annotate --help')", c.NArg())
	}
	out := c.Path("output")
	if out == "" {
		return usageErrorf("annotate needs -o OUTPUT.mp4")
	}
	if out == "-" {
		return usageErrorf("-o -: the video is written to a file (MP4 needs a seekable file); --sidecar - sends the JSON lines to stdout")
	}
	s, err := readSettings(c)
	if err != nil {
		return err
	}
	stderr := c.App.ErrWriter
	log := useSettings(c, s)
	defer log.Sync()

	input := c.Args().First()
	opt := s.Annotate()
	opt.Input, opt.Output, opt.Sidecar, opt.Stdout, opt.Report, opt.Force = input, out, c.String("sidecar"), c.App.Writer, c.Path("report"), c.Bool("force")
	if opt.Sidecar == "" {
		opt.Sidecar = annotate.DefaultSidecar(out)
	}
	// The people step (clusters, timeline, subtitles, review page) reads
	// and rewrites the sidecar: not possible when it went to stdout.
	if opt.Sidecar != "-" {
		opt.PeopleBase = strings.TrimSuffix(out, filepath.Ext(out))
		opt.People = people.PathFor(opt.PeopleBase)
	}
	opt.Name = filepath.Base(input)
	// A missing input or an unwritable output costs no model loading. Past
	// that, the first detector (0.5-0.9 s of a core) loads while ffprobe
	// (0.2 s) reads the input: on a short clip that is 7% of the run.
	if err := annotate.Check(opt); err != nil {
		return err
	}
	type loaded struct {
		env *engine.Env
		err error
	}
	envc := make(chan loaded, 1)
	var gate logGate
	go func() {
		env, err := engine.Load(c.Context, s.Engine(), gate.Logger(log))
		envc <- loaded{env, err}
	}()
	// The bar is set before Prepare, which copies the options into the plan.
	if s.LogFormat != "json" {
		var finish func()
		opt.Progress, finish = newProgress(stderr, "annotate")
		defer finish()
	}
	plan, err := annotate.Prepare(c.Context, opt)
	if err != nil {
		gate.Drop()
	} else {
		gate.Open()
		defer plan.Release() // the outputs' locks, if Run is not reached
	}
	l := <-envc
	if l.err == nil {
		defer l.env.Close()
	}
	if err != nil {
		return err // the input's problem first: it is the likelier one
	}
	if l.err != nil {
		return l.err
	}
	res, err := annotate.Run(c.Context, l.env, plan)
	if res != nil && s.Stats && res.Stats != nil {
		printStats(c, log, res.Stats)
	}
	// A truncated input's outputs are kept: they get their people too.
	if opt.People != "" && res != nil && (err == nil || errors.Is(err, annotate.ErrTruncated)) {
		started := time.Now()
		sum, err := people.UnifyFiles(c.Context, opt.People)
		if err != nil {
			// The run's outputs are in place, its people are not: take
			// everything back, as for any failed run.
			annotate.RemoveOutputs(opt)
			return err
		}
		for _, w := range sum.Warnings {
			log.Warn("people", zap.String("warning", w))
		}
		log.Info("people", zap.Int("strangers", sum.Strangers), zap.Int("clusters", sum.Clusters), zap.Float64("cut", sum.Cut),
			zap.Int("files_rewritten", len(sum.Written)), zap.Duration("took", time.Since(started).Round(time.Millisecond)))
	}
	if err != nil {
		return err // one line, printed by Main
	}
	say(c, log, fmt.Sprintf("%s -> %s", res.Summary(), out))
	return nil
}
