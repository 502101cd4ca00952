package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/people"
)

// mergeCommand: vidtag merge OUTPUT_DIR
//
// Folds the shard reports a sharded batch (a Kubernetes Indexed Job) left
// in OUTPUT_DIR into one batch-report.json, atomically; merging again
// changes nothing. Runnable by hand, or as a Job after the batch Job
// (configs/k8s/merge-job.yaml). Exit 0 when every shard reported and no
// video failed, 1 otherwise (the merged report is written all the same).
//
// With --input INPUT_DIR (and the batch's settings: the same flags or
// --config), it first applies the crowd of the whole folder: each video's
// names are checked against the strangers of every other shard's videos,
// and a video that would lose a name is tagged again (batch.RecheckAll).
func mergeCommand() *cli.Command {
	flags := append(append([]cli.Flag{
		&cli.PathFlag{Name: "input", Usage: "the batch's INPUT_DIR: check every video's names against the strangers of all shards (needs the batch's settings, models and known faces)"},
		&cli.BoolFlag{Name: "sidecar-only", Usage: "with --input: the batch ran with --sidecar-only"},
	}, tagFlags()...), videoFlags()...)
	return &cli.Command{
		Name:         "merge",
		Usage:        "fold the shard reports of a sharded batch into one batch-report.json",
		ArgsUsage:    "OUTPUT_DIR",
		Flags:        flags,
		Before:       loadConfig(flags),
		OnUsageError: onUsageError,
		Action:       runMerge,
	}
}

// recheckAll runs the whole folder's crowd check for merge --input.
func recheckAll(c *cli.Context, out string) error {
	s, err := readSettings(c)
	if err != nil {
		return err
	}
	log := useSettings(c, s)
	defer log.Sync()
	tag, err := s.BatchTag(c.Bool("sidecar-only"), log)
	if err != nil {
		return err
	}
	var loaded *engine.Env // by the first video that needs it
	defer func() { loaded.Close() }()
	redone, err := batch.RecheckAll(c.Context, batch.Options{In: c.Path("input"), Out: out, Jobs: 1, SidecarOnly: tag.SidecarOnly, Tag: tag, Log: log,
		Env: func() (*engine.Env, error) {
			env, err := engine.Load(c.Context, s.Engine(), log)
			loaded = env
			return env, err
		}})
	fmt.Fprintf(c.App.Writer, "crowd: %d videos tagged again with the strangers of every shard%s\n", len(redone), list(redone))
	return err
}

// tagSetting reports whether a merge flag is one of the batch's tagging
// settings (not logging or the config file).
func tagSetting(name string) bool {
	switch name {
	case "config", "log-format", "log-level", "help":
		return false
	}
	return true
}

func list(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return ": " + strings.Join(names, ", ")
}

func runMerge(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("merge takes one OUTPUT_DIR, got %d arguments (see 'vidtag merge --help')", c.NArg())
	}
	out := c.Args().First()
	if c.Path("input") != "" {
		if err := recheckAll(c, out); err != nil {
			return err
		}
	} else {
		// The tagging settings are for the crowd check only. The
		// environment may hold them for every command (an image sets
		// VIDTAG_MODELS): only a flag given here is a mistake.
		for _, f := range c.Command.Flags {
			name := f.Names()[0]
			if _, env := os.LookupEnv(envVars(name)[0]); name != "input" && c.IsSet(name) && !env && tagSetting(name) {
				return usageErrorf("--%s goes with --input (merge tags nothing without it)", name)
			}
		}
	}
	res, err := batch.Merge(out)
	if err != nil {
		return err
	}
	// Stranger clusters span every shard's videos: decided here, once the
	// reports are folded (package people: sidecars' "cluster", the
	// reports' "people", VTT, pages, index.html, the MP4s' subtitles;
	// atomically, and a no-op when nothing changed).
	sum, err := people.Unify(c.Context, out)
	if err != nil {
		return fmt.Errorf("people: %w", err)
	}
	for _, w := range sum.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "vidtag: people: %s\n", w)
	}
	for _, ig := range res.Ignored {
		fmt.Fprintf(c.App.ErrWriter, "vidtag: ignored %s\n", ig)
	}
	rep := res.Report
	fmt.Fprintln(c.App.Writer, rep.Table())
	what := "written"
	if !res.Written {
		what = "unchanged"
	}
	fmt.Fprintf(c.App.Writer, "%d of %d shard reports merged into %s (%s)\n", rep.Shards-len(rep.MissingShards), rep.Shards, res.Path, what)
	fmt.Fprintf(c.App.Writer, "people: %d stranger tracks of %d videos in %d clusters (cut %.3f); %d files rewritten; %s\n",
		sum.Strangers, sum.Videos, sum.Clusters, sum.Cut, len(sum.Written), filepath.Join(out, "index.html"))
	if len(rep.MissingShards) > 0 {
		return fmt.Errorf("%d of %d shards have no report yet (first missing: %d/%d): the merged report is partial",
			len(rep.MissingShards), rep.Shards, rep.MissingShards[0], rep.Shards)
	}
	if rep.Failed() {
		return fmt.Errorf("%d of %d videos failed (see %s)", rep.Totals.Failed, rep.Totals.Videos, res.Path)
	}
	return nil
}
