package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
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
		Commands:        []*cli.Command{annotateCommand(), batchCommand(), liveCommand()},
		OnUsageError:    onUsageError,
		CommandNotFound: func(c *cli.Context, name string) {},
		// Errors are mapped to exit codes in Main, not by cli's os.Exit.
		ExitErrHandler: func(*cli.Context, error) {},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q (try annotate, batch or live)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
	}
}

// vidtag --version prints the version and the models (version.go).
func init() { cli.VersionPrinter = printVersion }

// Main runs the CLI with args and returns the exit code. The first Ctrl-C
// (or SIGTERM) cancels the run, which stops within about a second and
// removes partial outputs; a second one kills the process at once.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default: a second signal kills
	}()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := App(stdout, stderr)
	err := app.RunContext(ctx, interspersed(app, args))
	code := exitCode(ctx, err)
	if err != nil && code != exitOK {
		fmt.Fprintf(stderr, "vidtag: %s\n", oneLine(err))
	}
	return code
}

// exitCode is the one place errors become exit codes.
func exitCode(ctx context.Context, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return exitInterrupted
	default:
		return exitFailure
	}
}

// oneLine keeps an error message to one line.
func oneLine(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted; partial outputs removed"
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
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
