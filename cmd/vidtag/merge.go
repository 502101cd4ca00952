package main

import (
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/people"
)

// mergeCommand: vidtag merge OUTPUT_DIR
//
// Folds the shard reports a sharded batch (a Kubernetes Indexed Job) left
// in OUTPUT_DIR into one batch-report.json, atomically; merging again
// changes nothing. Runnable by hand, or as a Job after the batch Job
// (configs/k8s/merge-job.yaml). Exit 0 when every shard reported and no
// video failed, 1 otherwise (the merged report is written all the same).
func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:         "merge",
		Usage:        "fold the shard reports of a sharded batch into one batch-report.json",
		ArgsUsage:    "OUTPUT_DIR",
		OnUsageError: onUsageError,
		Action:       runMerge,
	}
}

func runMerge(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("merge takes one OUTPUT_DIR, got %d arguments (see 'vidtag merge --help')", c.NArg())
	}
	out := c.Args().First()
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
