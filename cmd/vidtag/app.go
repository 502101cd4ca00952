package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"

	"github.com/vidtag/vidtag/internal/earlysig"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/settings"
)

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// App is the command-line interface; tests run it in-process.
func App(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:            "vidtag",
		Usage:           "find, name and track faces in video",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Version:         versionString(),
		Commands:        []*cli.Command{annotateCommand(), batchCommand(), liveCommand(), knownCommand(), mergeCommand(), statusCommand(), enrollCommand(), findCommand()},
		OnUsageError:    onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {},
		// Errors are mapped to exit codes in Main, not by cli's os.Exit.
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q (try annotate, batch, live, known, merge, status, enroll or find)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// vidtag --version prints the version and the models (version.go).
func init() { cli.VersionPrinter = printVersion }

// Main runs the CLI with args and returns the exit code. SIGINT or SIGTERM
// (to vidtag or to its process group; caught from the program's first
// moments, see package earlysig) cancels the run: it stops within about a
// second, exits 130 and says what it kept and which signal stopped it. As
// Benthos does it, a stop that hangs is not waited for: on a second signal,
// or when the run has not ended StopTimeout after the first, vidtag writes
// every goroutine's stack (where it hung), kills the encoders, removes
// temporary files and exits 130.
func Main(args []string, stdout, stderr io.Writer) int {
	sigs := earlysig.Signals()
	select {
	case s := <-sigs:
		report(stderr, jsonLogs(nil, args), "interrupted by "+signalName(s)+" before starting; nothing written", exitInterrupted)
		return exitInterrupted
	default:
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		s := <-sigs
		cancel(&stopSignal{s})
		why := "interrupted twice"
		select {
		case <-sigs:
		case <-time.After(stopTimeout()):
			why = fmt.Sprintf("did not stop within %v of %s", stopTimeout(), signalName(s))
		}
		json := jsonLogs(nil, args)
		dumpStacks(stderr, json)
		outfile.Abandon()
		report(stderr, json, why+"; stopped at once, partial outputs removed", exitInterrupted)
		os.Exit(exitInterrupted)
	}()
	return run(ctx, args, stdout, stderr)
}

// stopSignal is the cause of a run cancelled by a signal.
type stopSignal struct{ sig os.Signal }

func (s *stopSignal) Error() string { return signalName(s.sig) }

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// StopTimeout is how long a stop may take after the first signal
// (VIDTAG_STOP_TIMEOUT, a Go duration; 30s by default): encoders finish
// their files and outputs are checked within it.
func stopTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("VIDTAG_STOP_TIMEOUT")); err == nil && d > 0 {
		return d
	}
	return 30 * time.Second
}

// dumpStacks writes every goroutine's stack: what a stop that hung was
// waiting for. Under --log-format json it is one log entry.
func dumpStacks(w io.Writer, json bool) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	if !json {
		fmt.Fprintf(w, "vidtag: goroutine stacks at the forced stop:\n%s\n", buf)
		return
	}
	log := newLogger(w, "json", "info")
	log.Warn("goroutine stacks at the forced stop", zap.ByteString("stacks", buf))
	log.Sync()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := App(stdout, stderr)
	app.Metadata = map[string]any{}
	err := app.RunContext(ctx, interspersed(app, args))
	code := exitCode(ctx, err)
	if err != nil && code != exitOK {
		report(stderr, jsonLogs(app, args), finalLine(ctx, err), code)
	}
	return code
}

// report writes the final line: "vidtag: MESSAGE", or a JSON log entry
// under --log-format json, where every line on stderr is JSON.
func report(stderr io.Writer, json bool, msg string, code int) {
	if !json {
		fmt.Fprintf(stderr, "vidtag: %s\n", msg)
		return
	}
	log := newLogger(stderr, "json", "info")
	log.Error(msg, zap.Int("exit", code))
	log.Sync()
}

// jsonLogs reports whether this run logs JSON: as its settings said (a
// command records them in app.Metadata), else as the command line or the
// environment say (for errors found before the settings were read).
func jsonLogs(app *cli.App, args []string) bool {
	if app != nil {
		if f, ok := app.Metadata[metaLogFormat].(string); ok {
			return f == "json"
		}
	}
	for i, a := range args {
		if a == "--log-format=json" || a == "-log-format=json" ||
			((a == "--log-format" || a == "-log-format") && i+1 < len(args) && args[i+1] == "json") {
			return true
		}
	}
	return os.Getenv("VIDTAG_LOG_FORMAT") == "json"
}

// metaLogFormat is the app.Metadata key for the log format in use.
const metaLogFormat = "log-format"

// useSettings records the log format a command runs with (for the final
// line) and returns its logger.
func useSettings(c *cli.Context, s settings.Settings) *zap.Logger {
	if c.App.Metadata != nil {
		c.App.Metadata[metaLogFormat] = s.LogFormat
	}
	return newLogger(c.App.ErrWriter, s.LogFormat, s.LogLevel)
}

// say writes a command's closing summary: "vidtag: MSG" or, under
// --log-format json, a log entry with the same message.
func say(c *cli.Context, log *zap.Logger, msg string, fields ...zap.Field) {
	if f, _ := c.App.Metadata[metaLogFormat].(string); f == "json" {
		log.Info(msg, fields...)
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "vidtag: %s\n", msg)
}

// exitCode is the one place errors become exit codes. Once a signal has
// cancelled the run, any error it ends with is the interrupt's doing (an
// ffprobe killed by the terminal's Ctrl-C fails before we see it).
func exitCode(ctx context.Context, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, outfile.ErrIsInput), errors.Is(err, outfile.ErrSamePath):
		return exitUsage
	case ctx.Err() != nil:
		return exitInterrupted
	default:
		return exitFailure
	}
}

// interrupted is a run stopped by a signal, with what it kept.
type interrupted struct{ kept string }

func (e *interrupted) Error() string { return "interrupted; " + e.kept }

// interruptedBy is "interrupted by SIGTERM" (the signal that cancelled ctx),
// or "interrupted".
func interruptedBy(ctx context.Context) string {
	var s *stopSignal
	if errors.As(context.Cause(ctx), &s) {
		return "interrupted by " + s.Error()
	}
	return "interrupted"
}
func (e *interrupted) Unwrap() error { return context.Canceled }

// finalLine is the run's last word on an error: one line, saying what an
// interrupt kept.
func finalLine(ctx context.Context, err error) string {
	var in *interrupted
	switch {
	case errors.As(err, &in):
		return interruptedBy(ctx) + "; " + in.kept
	case ctx.Err() != nil && !errors.Is(err, outfile.ErrIsInput) && !errors.Is(err, outfile.ErrSamePath):
		if errors.Is(err, context.Canceled) {
			return interruptedBy(ctx) + "; partial outputs removed, nothing written"
		}
		return interruptedBy(ctx) + "; nothing written (" + tidy.ErrorLine(err) + ")"
	}
	return tidy.ErrorLine(err)
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageErrorf("%v (see 'vidtag %s --help')", err, c.Command.FullName())
}

// interspersed moves flags in front of positional arguments for each
// command, so "vidtag annotate in.mp4 -o out.mp4" works: urfave/cli v2
// (like Go's flag package) stops at the first positional argument.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[1]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	if len(cmd.Subcommands) > 0 { // "known check DIR --models M": the same, one level down
		if len(args) < 3 {
			return args
		}
		sub := &cli.App{Commands: cmd.Subcommands}
		return append([]string{args[0]}, interspersed(sub, args[1:])...)
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		tv, ok := f.(interface{ TakesValue() bool })
		for _, n := range f.Names() {
			takesValue[n] = ok && tv.TakesValue()
		}
	}
	var flags, positional []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' && a != "-" {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(rest) {
				flags = append(flags, rest[i+1])
				i++
			}
			continue
		}
		positional = append(positional, a)
	}
	out := append([]string{args[0], args[1]}, flags...)
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}
