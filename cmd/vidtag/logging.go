package main

import (
	"io"
	"os"
	"sync"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/term"

	"github.com/vidtag/vidtag/pipeline"
)

// newLogger logs to w: human-readable by default, JSON for machines. It does
// not sample: a warning is never dropped. Per-frame events go at debug.
func newLogger(w io.Writer, format, level string) *zap.Logger {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		lvl = zapcore.InfoLevel
	}
	var enc zapcore.Encoder
	if format == "json" {
		cfg := zap.NewProductionEncoderConfig()
		cfg.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(cfg)
	} else {
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
		cfg.EncodeCaller = nil
		cfg.CallerKey = ""
		if isTerminal(w) {
			cfg.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(cfg)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl))
}

// isTerminal reports whether w is a terminal (for colour and progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// logGate holds a logger's entries until Open writes them out, or Drop
// discards them: work started early (models loading while the input is
// probed) must not log before an error that makes its lines moot, since a
// bad input gets exactly one line.
type logGate struct {
	mu     sync.Mutex
	open   bool
	closed bool
	held   []func()
}

// Logger is log with its entries passing through the gate.
func (g *logGate) Logger(log *zap.Logger) *zap.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return gatedCore{c, g} }))
}

// Open writes the held entries and lets later ones through.
func (g *logGate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, write := range g.held {
		write()
	}
	g.held, g.open = nil, true
}

// Drop discards the held entries and every later one.
func (g *logGate) Drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held, g.closed = nil, true
}

type gatedCore struct {
	zapcore.Core
	gate *logGate
}

func (c gatedCore) With(fields []zapcore.Field) zapcore.Core {
	return gatedCore{c.Core.With(fields), c.gate}
}

func (c gatedCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c gatedCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	g := c.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.open:
		return c.Core.Write(e, fields)
	case !g.closed:
		fields = append([]zapcore.Field(nil), fields...)
		g.held = append(g.held, func() { c.Core.Write(e, fields) })
	}
	return nil
}

// printStats writes the --stats table, or under --log-format json one log
// entry per stage.
func printStats(c *cli.Context, log *zap.Logger, st *pipeline.Stats) {
	if f, _ := c.App.Metadata[metaLogFormat].(string); f != "json" {
		st.Print(c.App.ErrWriter)
		return
	}
	for _, s := range st.Steps {
		log.Info("stats", zap.String("stage", s.Name), zap.Int("workers", s.Workers), zap.Int("items", s.Items),
			zap.Float64("busy_s", s.Busy.Seconds()), zap.Float64("wait_in_s", s.WaitIn.Seconds()),
			zap.Float64("wait_out_s", s.WaitOut.Seconds()), zap.Float64("queue_avg", s.QueueAvg()), zap.Int("queue_max", s.QueueMax))
	}
	log.Info("stats", zap.String("stage", "wall"), zap.Float64("wall_s", st.Wall.Seconds()))
}
