package main

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
	"go.uber.org/zap"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/pipeline"
)

// batchCommand: vidtag batch INPUT_DIR -o OUTPUT_DIR --known DIR
//
// Tags every video under INPUT_DIR into a mirror tree under OUTPUT_DIR.
// Re-runs skip what is complete; failures are recorded and the batch goes
// on; --shard I/N takes a deterministic share for scale-out.
func batchCommand() *cli.Command {
	flags := append(append([]cli.Flag{
		&cli.PathFlag{Name: "output", Aliases: []string{"o"}, Usage: "folder for the outputs: REL/NAME.mp4, .jsonl and .report.json per input (required)"},
		altsrc.NewIntFlag(&cli.IntFlag{Name: "jobs", Usage: "videos tagged at once, sharing the detector engines (0: half the cores, at least 2: one video's start and end overlap another's middle)", EnvVars: envVars("jobs")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "shard", Value: "0/1", Usage: "take share I of N of the files (0 <= I < N), by a hash of their paths: N processes cover every file exactly once", EnvVars: envVars("shard")}),
		altsrc.NewIntFlag(&cli.IntFlag{Name: "long-shards", Usage: "with --shard I/N: videos of at least --long-size go to the first K shards only (K = the Job's parallelism, so they start first; 0: off)", EnvVars: envVars("long-shards")}),
		altsrc.NewStringFlag(&cli.StringFlag{Name: "long-size", Value: "500MB", Usage: "size from which --long-shards counts a video as long (e.g. 500MB, 2GiB)", EnvVars: envVars("long-size")}),
		&cli.BoolFlag{Name: "sidecar-only", Usage: "write the sidecar and report, not the video (fast indexing)"},
		&cli.BoolFlag{Name: "force", Usage: "redo videos whose outputs are complete"},
	}, tagFlags()...), videoFlags()...)
	return &cli.Command{
		Name:         "batch",
		Usage:        "tag every video in a folder tree, resumably",
		ArgsUsage:    "INPUT_DIR",
		Flags:        flags,
		Before:       loadConfig(flags),
		OnUsageError: onUsageError,
		Action:       runBatch,
	}
}

func runBatch(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("batch takes one INPUT_DIR, got %d arguments (see 'vidtag batch --help')", c.NArg())
	}
	out := c.Path("output")
	if out == "" {
		return usageErrorf("batch needs -o OUTPUT_DIR")
	}
	s, err := readSettings(c)
	if err != nil {
		return err
	}
	shard, err := batch.ParseShard(c.String("shard"))
	if err != nil {
		return &usageError{err.Error()}
	}
	if shard.LongShards = c.Int("long-shards"); shard.LongShards < 0 || shard.LongShards > shard.Count {
		return usageErrorf("--long-shards %d: want 0 to N of --shard (%d)", shard.LongShards, shard.Count)
	}
	if shard.LongSize, err = batch.ParseSize(c.String("long-size")); err != nil {
		return &usageError{err.Error()}
	}
	jobs := c.Int("jobs")
	if jobs < 0 {
		return usageErrorf("--jobs %d: want 0 or more", jobs)
	}
	if jobs == 0 {
		jobs = min(runtime.NumCPU(), max(2, runtime.NumCPU()/2))
	}
	stderr := c.App.ErrWriter
	log := useSettings(c, s)
	defer log.Sync()

	tag, err := s.BatchTag(c.Bool("sidecar-only"), log)
	if err != nil {
		return err
	}
	if jobs > 1 {
		tag.EncoderThreads = max(1, (3*runtime.NumCPU()/2+jobs-1)/jobs) // x264's own 1.5 per core, shared
	}

	var loaded *engine.Env // by the first video that needs it
	defer func() { loaded.Close() }()
	opt := batch.Options{
		In: c.Args().First(), Out: out, Jobs: jobs, Shard: shard, SidecarOnly: tag.SidecarOnly, Force: c.Bool("force"),
		Tag: tag, Log: log,
		Env: func() (*engine.Env, error) {
			env, err := engine.Load(c.Context, s.Engine(), log)
			loaded = env
			return env, err
		},
	}
	finish := func() {}
	if s.LogFormat != "json" {
		var bar func()
		opt.Progress, bar = newBatchProgress(stderr)
		finish = sync.OnceFunc(bar)
		defer finish()
	}
	// --stats: the step timings of every video tagged, added up.
	var (
		statsMu sync.Mutex
		total   pipeline.Stats
	)
	if s.Stats {
		opt.Stats = func(st *pipeline.Stats) {
			statsMu.Lock()
			defer statsMu.Unlock()
			total.Add(st)
		}
	}
	rep, err := batch.Run(c.Context, opt)
	if rep != nil {
		fmt.Fprintln(c.App.Writer, rep.Table())
	}
	statsMu.Lock()
	if len(total.Steps) > 0 {
		finish() // the bar first: the table goes to the same stream
		printStats(c, log, &total)
	}
	statsMu.Unlock()
	if err != nil && rep != nil && c.Context.Err() != nil {
		return &interrupted{fmt.Sprintf("%d finished videos kept, the one in progress removed; report %s", rep.Totals.OK+rep.Totals.Failed, batch.ReportPath(out, shard))}
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		return fmt.Errorf("%d of %d videos failed (see %s)", rep.Totals.Failed, rep.Totals.Videos, batch.ReportPath(out, shard))
	}
	log.Info("batch done", zap.String("report", batch.ReportPath(out, shard)))
	return nil
}
