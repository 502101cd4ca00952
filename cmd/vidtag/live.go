package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"go.uber.org/zap"
	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/internal/cvlibs"
	"github.com/vidtag/vidtag/internal/outfile"
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
		altsrc.NewIntFlag(&cli.IntFlag{Name: "reconnects", Value: live.DefaultReconnects, Usage: "times a lost camera or stream is reopened (back-off 0.5 s doubling to 10 s) before giving up", EnvVars: envVars("reconnects")}),
		&cli.PathFlag{Name: "record", Usage: "also write the annotated stream to this MP4"},
		&cli.BoolFlag{Name: "headless", Usage: "no window (servers, CI): a frame counts as shown when it is complete"},
		&cli.StringFlag{Name: "events", Usage: "write enter/leave events as JSON lines here (- for stdout)"},
		&cli.PathFlag{Name: "report", Usage: "write a JSON report here at the end"},
		&cli.PathFlag{Name: "snapshots", Value: ".", Usage: "folder for PNG snapshots (key s)"},
		&cli.BoolFlag{Name: "force", Usage: "overwrite an existing recording, events or report file"},
	}, liveTagFlags()...), liveVideoFlags()...)
	return &cli.Command{
		Name:         "live",
		Usage:        "tag a webcam, stream or file live, in a window or headless",
		Flags:        flags,
		Before:       loadConfig(flags),
		OnUsageError: onUsageError,
		Action:       runLive,
	}
}

// liveRefuses are the shared settings live cannot honour: it names faces
// as they come (no look-ahead), and its --record has no subtitle stream.
// It has no flag for them, a config file's top-level key is refused ("put
// it in a section"), and so is the environment's (liveRefusedEnv). Its
// schedule, detector, tracker, blur and recorder take every other one.
var liveRefuses = []string{"lookahead", "subtitles"}

// liveTagFlags are the shared settings live honours.
func liveTagFlags() []cli.Flag { return withoutFlags(tagFlags(), liveRefuses) }

// liveVideoFlags are the encoder settings of live's --record.
func liveVideoFlags() []cli.Flag { return withoutFlags(videoFlags(), liveRefuses) }

func withoutFlags(flags []cli.Flag, names []string) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		if !slices.ContainsFunc(names, func(n string) bool { return slices.Contains(f.Names(), n) }) {
			out = append(out, f)
		}
	}
	return out
}

// liveRefusedEnv refuses a VIDTAG_* variable that asks live for what it
// cannot do, rather than ignore it; one that asks for nothing (a look-ahead
// of 0, subtitles false) is let through.
func liveRefusedEnv() error {
	if v := os.Getenv("VIDTAG_LOOKAHEAD"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d != 0 {
			return usageErrorf("VIDTAG_LOOKAHEAD=%s: live names faces as they come and cannot look ahead; unset it for live", v)
		}
	}
	if v := os.Getenv("VIDTAG_SUBTITLES"); v != "" {
		if on, err := strconv.ParseBool(v); err != nil || on {
			return usageErrorf("VIDTAG_SUBTITLES=%s: live writes no subtitles (its --record has no subtitle stream); unset it for live", v)
		}
	}
	return nil
}

func runLive(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageErrorf("live takes no arguments; use --camera INDEX or --input URL_OR_FILE")
	}
	src := live.Source{Camera: c.Int("camera"), Input: c.String("input"), Loop: c.Bool("loop"), Reconnects: c.Int("reconnects")}
	if src.Reconnects < 1 {
		return usageErrorf("--reconnects %d: want 1 or more", src.Reconnects)
	}
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
	if err := liveRefusedEnv(); err != nil {
		return err
	}
	headless := c.Bool("headless")
	if !headless && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return fmt.Errorf("no display to open a window on (DISPLAY is not set); use --headless")
	}
	log := useSettings(c, s)
	defer log.Sync()

	// Everything that can be checked is checked before the session (and
	// the models) start: the input file, and the outputs, which must not
	// be the input or one another, must be writable, and are locked.
	if src.Input != "" && !live.IsURL(src.Input) {
		if err := media.CheckReadable(src.Input); err != nil {
			return err
		}
	}
	record, report, events, force := c.Path("record"), c.Path("report"), fileArg(c.String("events")), c.Bool("force")
	inputs := []string{}
	if src.Input != "" && !live.IsURL(src.Input) {
		inputs = append(inputs, src.Input)
	}
	if err := outfile.CheckInputs(inputs, map[string]string{"--record": record, "--report": report, "--events": events}); err != nil {
		return err
	}
	for _, p := range []string{record, report, events} {
		if p != "" {
			if err := media.CheckWritable(p, force); err != nil {
				return err
			}
		}
	}
	locks, err := outfile.AcquireAll(record, report, events)
	if err != nil {
		return err
	}
	defer locks.Release()
	for _, p := range []string{record, report} {
		if p != "" {
			outfile.RemoveStale(p)
		}
	}
	env, err := engine.Load(c.Context, s.Engine(), log)
	if err != nil {
		return err
	}
	defer env.Close()

	opt := s.Live()
	opt.Source, opt.Record, opt.Force, opt.Log = src, record, force, log
	var eventsFile *lazyFile
	switch ev := c.String("events"); ev {
	case "":
	case "-":
		opt.Events = c.App.Writer
	default:
		// Created on the first event, or when the session has run: a
		// session that never starts leaves no empty file behind.
		eventsFile = &lazyFile{path: ev}
		defer eventsFile.Close()
		opt.Events = eventsFile
	}

	var rep *live.Report
	var sess *live.Session
	if c.Bool("headless") {
		rep, sess, err = runHeadless(c.Context, env, opt)
	} else {
		rep, sess, err = showWindow(c.Context, env, opt, c.Path("snapshots"), log)
	}
	var recorded int
	if sess != nil {
		recorded = sess.Recorded
		if s.Stats && sess.Stats != nil {
			printStats(c, log, sess.Stats)
		}
	}
	var kept []string
	if rep != nil {
		say(c, log, fmt.Sprintf("%s: %d frames shown at %.1f fps, detector at %.1f fps, latency p50 %.0f ms p95 %.0f ms; %s",
			rep.Source, rep.FramesShown, rep.DisplayFPS, rep.DetectFPS, rep.LatencyMS.P50, rep.LatencyMS.P95, peopleLine(rep.People)))
		if eventsFile != nil {
			if werr := eventsFile.Touch(); werr != nil && err == nil {
				err = werr
			}
			kept = append(kept, "events "+eventsFile.path)
		}
		if report != "" {
			if werr := outfile.WriteJSON(report, rep, 0o644); werr != nil && err == nil {
				err = werr
			} else if werr == nil {
				kept = append(kept, "report "+report)
			}
		}
	}
	if recorded > 0 {
		kept = append([]string{fmt.Sprintf("recording %s (%d frames, playable)", record, recorded)}, kept...)
	}
	if c.Context.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		// Ctrl-C or SIGTERM: exit 130, saying what was kept.
		if len(kept) == 0 {
			return &interrupted{"nothing written"}
		}
		return &interrupted{"kept " + strings.Join(kept, ", ")}
	}
	if err != nil && recorded > 0 {
		return fmt.Errorf("%w; kept %s", err, strings.Join(kept, ", "))
	}
	return err
}

// runHeadless runs a session with no window.
func runHeadless(ctx context.Context, env *engine.Env, opt live.Options) (*live.Report, *live.Session, error) {
	sess, err := live.Start(ctx, env, opt)
	if err != nil {
		return nil, nil, err
	}
	for f := range sess.Frames() {
		sess.Shown(f)
		f.Release()
	}
	rep, err := sess.Wait()
	return rep, sess, err
}

// lazyFile is a file created on its first write (0644 less the umask,
// never more: umask 000 does not make it world-writable), so that a
// session that fails to start leaves nothing.
type lazyFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	err  error
}

func (l *lazyFile) open() {
	if l.f != nil || l.err != nil {
		return
	}
	l.f, l.err = os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644&^outfile.Umask())
	if l.err == nil {
		l.err = l.f.Chmod(0o644 &^ outfile.Umask())
	}
	if l.err != nil {
		l.err = fmt.Errorf("%s: %w", l.path, outfile.UnwrapPathError(l.err))
	}
}

func (l *lazyFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open()
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(p)
}

// Touch creates the file if nothing was written (a session with no
// events still says so with an empty file).
func (l *lazyFile) Touch() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open()
	return l.err
}

func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// showWindow runs a session in a window on this (the main) OS thread.
// Keys: q or Esc quit, space pauses, s saves a PNG snapshot; closing the
// window quits.
func showWindow(ctx context.Context, env *engine.Env, opt live.Options, snapshots string, log *zap.Logger) (*live.Report, *live.Session, error) {
	// the window, and the snapshots' PNG writer
	if err := cvlibs.Need(cvlibs.Highgui, cvlibs.Imgcodecs); err != nil {
		return nil, nil, err
	}
	sess, err := live.Start(ctx, env, opt)
	if err != nil {
		return nil, nil, err
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
	rep, err := sess.Wait()
	return rep, sess, err
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
