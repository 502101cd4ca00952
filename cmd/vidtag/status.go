package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/batch"
)

// statusCommand: vidtag status OUTPUT_DIR [--json]
//
// Says how many videos of the newest batch run in OUTPUT_DIR are done,
// failed and left, while it runs, from the output folder alone (the plan
// each shard writes when it starts, the report it writes when it ends, and
// the outputs in between). Exit 0 whatever the count; 1 when OUTPUT_DIR
// holds no batch.
func statusCommand() *cli.Command {
	return &cli.Command{
		Name:         "status",
		Usage:        "how far a batch (or a Kubernetes Job of shards) has got: videos done, failed and left",
		ArgsUsage:    "OUTPUT_DIR",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the status as JSON"}},
		OnUsageError: onUsageError,
		Action:       runStatus,
	}
}

func runStatus(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("status takes one OUTPUT_DIR, got %d arguments (see 'vidtag status --help')", c.NArg())
	}
	st, err := batch.ReadStatus(c.Args().First())
	if err != nil {
		return err
	}
	if c.Bool("json") {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}
	fmt.Fprintln(c.App.Writer, st.Table())
	return nil
}
