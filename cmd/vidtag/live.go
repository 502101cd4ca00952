package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/renameio/v2"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/stages"
)

// liveCommand: vidtag live [--camera INDEX | --input URL_OR_FILE] --known DIR
//
// Shows a camera, stream or file with names over faces, at the source's
// pace, with bounded latency; or runs headless for events and recording.
func liveCommand() *cli.Command {
	flags := append(append([]cli.Flag{
		&cli.IntFlag{Name: "camera", Value: -1, Usage: "camera index (default 0 when no --input)"},
		&cli.StringFlag{Name: "input", Usage: "a video file (played at its own frame rate) or an RTSP/HTTP URL"},
		&cli.BoolFlag{Name: "loop", Usage: "replay a file --input when it ends"},
		&cli.PathFlag{Name: "record", Usage: "also write the annotated stream to this MP4"},
		&cli.BoolFlag{Name: "headless", Usage: "no window (servers, CI): a frame counts as shown when it is complete"},
		&cli.StringFlag{Name: "events", Usage: "write enter/leave events as JSON lines here (- for stdout)"},
		&cli.PathFlag{Name: "report", Usage: "write a JSON report here at the end"},
		&cli.PathFlag{Name: "snapshots", Value: ".", Usage: "folder for PNG snapshots (key s)"},
		&cli.BoolFlag{Name: "force", Usage: "overwrite an existing recording, events or report file"},
	}, tagFlags()...), videoFlags()...)
	return &cli.Command{
		Name:         "live",
		Usage:        "tag a webcam, stream or file live, in a window or headless",
		Flags:        flags,
		Before:       loadConfig(flags),
		OnUsageError: onUsageError,
		Action:       runLive,
	}
}

func runLive(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErrorf("live takes no arguments; use --camera INDEX or --input URL_OR_FILE")
	}
	src := live.Source{Camera: c.Int("camera"), Input: c.String("input"), Loop: c.Bool("loop")}
	switch {
	case src.Camera >= 0 && src.Input != "":
		return usageErrorf("give --camera or --input, not both")
	case src.Camera < 0 && src.Input == "":
		src.Camera = 0
	}
	s, err := readSettings(c)
	if err != nil {
		return err
	}
	headless := c.Bool("headless")
	if !headless && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return fmt.Errorf("no display to open a window on (DISPLAY is not set); use --headless")
	}
	stderr := c.App.ErrWriter
	log := newLogger(stderr, s.LogFormat, s.LogLevel)
	defer log.Sync()
	for _, p := range []string{c.Path("record"), c.Path("report"), fileArg(c.String("events"))} {
		if p != "" && !c.Bool("force") {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s: already exists (use --force to overwrite)", p)
			}
		}
	}
	env, closeEnv, err := loadEnv(c.Context, s, log)
	if err != nil {
		return err
	}
	defer closeEnv()

	opt := live.Options{Source: src, Tag: tagOptions(s), Record: c.Path("record"), Force: c.Bool("force"), Log: log}
	switch ev := c.String("events"); ev {
	case "":
	case "-":
		opt.Events = c.App.Writer
	default:
		f, err := os.Create(ev)
		if err != nil {
			return fmt.Errorf("%s: %w", ev, media.UnwrapPathError(err))
		}
		defer f.Close()
		opt.Events = f
	}

	var rep *live.Report
	if headless {
		rep, err = live.RunHeadless(c.Context, env, opt)
	} else {
		rep, err = showWindow(c.Context, env, opt, c.Path("snapshots"), log)
	}
	if rep != nil {
		fmt.Fprintf(stderr, "vidtag: %s: %d frames shown at %.1f fps, detector at %.1f fps, latency p50 %.0f ms p95 %.0f ms; %s\n",
			rep.Source, rep.FramesShown, rep.DisplayFPS, rep.DetectFPS, rep.LatencyMS.P50, rep.LatencyMS.P95, peopleLine(rep.People))
		if p := c.Path("report"); p != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if werr := renameio.WriteFile(p, append(b, '\n'), 0o644, renameio.WithTempDir(filepath.Dir(p))); werr != nil && err == nil {
				err = fmt.Errorf("%s: %w", p, werr)
			}
		}
	}
	if err == nil && c.Context.Err() != nil {
		return c.Context.Err() // Ctrl-C: exit 130
	}
	return err
}

// showWindow runs a session in a window on this (the main) OS thread.
// Keys: q or Esc quit, space pauses, s saves a PNG snapshot; closing the
// window quits.
func showWindow(ctx context.Context, env *annotate.Env, opt live.Options, snapshots string, log *zap.Logger) (*live.Report, error) {
	sess, err := live.Start(ctx, env, opt)
	if err != nil {
		return nil, err
	}
	win := gocv.NewWindow("vidtag — " + opt.Source.String())
	defer win.Close()
	var current *stages.Frame
	paused, opened := false, false
	tick := time.NewTicker(15 * time.Millisecond)
	defer tick.Stop()
	frames := sess.Frames()
	for frames != nil {
		select {
		case f, ok := <-frames:
			if !ok {
				frames = nil
				continue
			}
			if paused {
				f.Release()
				continue
			}
			win.IMShow(f.Mat)
			sess.Shown(f)
			opened = true
			if current != nil {
				current.Release()
			}
			current = f
		case <-tick.C:
		}
		switch key := win.WaitKey(1); key {
		case 'q', 'Q', 27:
			sess.Stop()
		case ' ':
			paused = !paused
			sess.Pause(paused)
		case 's', 'S':
			if current != nil {
				path := filepath.Join(snapshots, "vidtag-"+time.Now().Format("20060102-150405.000")+".png")
				if gocv.IMWrite(path, current.Mat) {
					log.Info("snapshot saved", zap.String("path", path))
				} else {
					log.Warn("snapshot not saved", zap.String("path", path))
				}
			}
		}
		if opened && win.GetWindowProperty(gocv.WindowPropertyVisible) < 1 {
			sess.Stop() // the window was closed
		}
	}
	if current != nil {
		current.Release()
	}
	return sess.Wait()
}

// fileArg is the file a "-"-or-path argument names ("" for stdout or none).
func fileArg(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func peopleLine(people map[string]float64) string {
	if len(people) == 0 {
		return "nobody known"
	}
	b, _ := json.Marshal(people)
	return "seconds on screen " + string(b)
}
