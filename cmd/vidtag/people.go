package main

// vidtag enroll RESULT --cluster 3 --name NAME --known DIR
// vidtag find NAME OUTPUT_DIR [--json]
//
// enroll names a group of strangers once: it copies the cluster's best face
// crops into DIR/NAME/, so the next run names them. find lists where a
// person or cluster appears. Both read what annotate and batch wrote
// (NAME.people.json, the sidecars); neither loads a model.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/people"
)

func enrollCommand() *cli.Command {
	return &cli.Command{
		Name:      "enroll",
		Usage:     "name a cluster of strangers: copy its best face crops into the known-faces folder",
		ArgsUsage: "RESULT (an annotate output such as OUT.mp4, or a batch output folder)",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "cluster", Usage: "the cluster to name (the N of \"Unknown #N\") (required)"},
			&cli.StringFlag{Name: "name", Usage: "the person's name: the folder DIR/NAME/ the crops go to (required)"},
			&cli.PathFlag{Name: "known", Usage: "the known-faces folder (required)"},
			&cli.IntFlag{Name: "photos", Value: people.DefaultEnrollPhotos, Usage: "most crops to copy, best first"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("enroll takes one RESULT, got %d arguments (see 'vidtag enroll --help')", c.NArg())
			}
			if c.Int("cluster") <= 0 || c.String("name") == "" || c.Path("known") == "" {
				return usageErrorf("enroll needs --cluster N (1 or more), --name NAME and --known DIR")
			}
			if c.Int("photos") <= 0 {
				return usageErrorf("--photos %d: want 1 or more", c.Int("photos"))
			}
			written, err := people.Enroll(c.Args().First(), c.Int("cluster"), c.String("name"), c.Path("known"), c.Int("photos"))
			for _, w := range written {
				fmt.Fprintln(c.App.Writer, w)
			}
			if err != nil {
				if strings.HasPrefix(err.Error(), "--name") {
					return usageErrorf("%v", err)
				}
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "vidtag: wrote %d photos of %s to %s/: the next run with --known %s names them %s (check with: vidtag known check %s)\n",
				len(written), people.ClusterName(c.Int("cluster")), strings.TrimSuffix(c.Path("known"), "/")+"/"+c.String("name"), c.Path("known"), c.String("name"), c.Path("known"))
			return nil
		},
	}
}

func findCommand() *cli.Command {
	return &cli.Command{
		Name:      "find",
		Usage:     "list the videos and time ranges where a person or cluster appears",
		ArgsUsage: "NAME (a known name, or \"Unknown #3\", \"#3\") OUTPUT_DIR",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
		},
		OnUsageError: onUsageError,
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usageErrorf("find takes NAME and OUTPUT_DIR, got %d arguments (see 'vidtag find --help')", c.NArg())
			}
			found, names, err := people.Find(c.Args().Get(1), c.Args().Get(0))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				b, _ := json.MarshalIndent(found, "", "  ")
				fmt.Fprintln(c.App.Writer, string(b))
			} else if len(found.Videos) > 0 {
				fmt.Fprintln(c.App.Writer, findTable(found))
			}
			if len(found.Videos) == 0 {
				return fmt.Errorf("%s: not in any video of %s (people there: %s)", found.Name, c.Args().Get(1), strings.Join(names, ", "))
			}
			return nil
		},
	}
}

func findTable(f *people.Found) string {
	var b strings.Builder
	w := 5
	for _, v := range f.Videos {
		w = max(w, len(v.Input))
	}
	fmt.Fprintf(&b, "%-*s  %8s  %s\n", w, "video", "seconds", "on screen (s)")
	for _, v := range f.Videos {
		var rs []string
		for _, r := range v.Ranges {
			rs = append(rs, fmt.Sprintf("%.1f-%.1f", r[0], r[1]))
		}
		fmt.Fprintf(&b, "%-*s  %8.1f  %s\n", w, v.Input, v.Seconds, strings.Join(rs, ", "))
	}
	fmt.Fprintf(&b, "%s: %.1f s in %d videos", f.Name, f.Seconds, len(f.Videos))
	return b.String()
}
