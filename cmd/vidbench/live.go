package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/vidtag/vidtag/live"
)

// liveTargetP95 is the latency target: p95 capture-to-display at 30 fps.
const liveTargetP95 = 150.0

// liveMain is "vidbench live": clips played through "vidtag live
// --headless" (a file plays at its own frame rate, as a camera delivers
// it), each run its own process, reading the session's report. Several
// binaries (-vidtag a,b: say, main's and a branch's) run round-robin in one
// go, so that they share the machine's load and compare side by side.
//
//	go run ./cmd/vidbench live -vidtag bin/old/vidtag,bin/vidtag -runs 3
func liveMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vidbench live", flag.ContinueOnError)
	def := os.Getenv("VIDTAG_TESTDATA")
	if def == "" {
		def = "../shared/testdata"
	}
	data := fs.String("data", def, "shared test data folder")
	bins := fs.String("vidtag", "bin/vidtag", "vidtag binaries to compare (comma separated)")
	models := fs.String("models", "models", "model folder")
	out := fs.String("out", "out/bench", "folder for reports")
	runs := fs.Int("runs", 3, "runs per binary and clip")
	clips := fs.String("clips", "short_hamilton_clip", "clips to play")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return benchLive(ctx, strings.Split(*bins, ","), *data, *models, *out, strings.Split(*clips, ","), *runs, stdout)
}

// liveRow is one binary on one clip.
type liveRow struct {
	bin, clip string
	reps      []live.Report
}

func benchLive(ctx context.Context, bins []string, data, models, out string, clips []string, runs int, stdout io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	rows := map[string]*liveRow{}
	var order []string
	for run := 0; run < runs; run++ {
		for _, clip := range clips {
			for i, bin := range bins {
				key := bin + "\x00" + clip
				if rows[key] == nil {
					rows[key] = &liveRow{bin: bin, clip: clip}
					order = append(order, key)
				}
				rep, err := runLive(ctx, bin, filepath.Join(data, "clips", clip+".mp4"), filepath.Join(data, "known"), models,
					filepath.Join(out, fmt.Sprintf("%s.live%d.json", clip, i)))
				if err != nil {
					return fmt.Errorf("%s live %s: %w", bin, clip, err)
				}
				rows[key].reps = append(rows[key].reps, *rep)
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "live (headless, file at its own rate)\tclip\truns\tdisplay fps\tof source\tlatency p50 ms\tp95 ms\tworst p95\tmax ms\tnot shown\tkeyframes dropped\tdetect fps\tp95 of each run\t")
	for _, key := range order {
		r := rows[key]
		med := func(f func(live.Report) float64) float64 {
			v := make([]float64, len(r.reps))
			for i, rep := range r.reps {
				v[i] = f(rep)
			}
			sort.Float64s(v)
			return v[len(v)/2]
		}
		worst := 0.0
		var each []string
		for _, rep := range r.reps {
			worst = max(worst, rep.LatencyMS.P95)
			each = append(each, fmt.Sprintf("%.0f", rep.LatencyMS.P95))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%.1f\t%s\t\n", r.bin, r.clip, len(r.reps),
			med(func(x live.Report) float64 { return x.DisplayFPS }), med(func(x live.Report) float64 { return x.SourceFPS }),
			med(func(x live.Report) float64 { return x.LatencyMS.P50 }), med(func(x live.Report) float64 { return x.LatencyMS.P95 }), worst,
			med(func(x live.Report) float64 { return x.LatencyMS.Max }), med(func(x live.Report) float64 { return float64(x.FramesLate) }),
			med(func(x live.Report) float64 { return float64(x.FramesDropped) }), med(func(x live.Report) float64 { return x.DetectFPS }), strings.Join(each, " "))
	}
	tw.Flush()
	for _, key := range order {
		r := rows[key]
		ok := true
		for _, rep := range r.reps {
			ok = ok && rep.LatencyMS.P95 <= liveTargetP95
		}
		verdict := "met"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Fprintf(stdout, "target: %s %s live p95 capture-to-display <= %.0f ms in every run: %s\n", r.bin, r.clip, liveTargetP95, verdict)
	}
	return nil
}

// runLive plays one clip through "vidtag live --headless" and reads its
// report.
func runLive(ctx context.Context, bin, input, known, models, report string) (*live.Report, error) {
	cmd := exec.CommandContext(ctx, bin, "live", "--input", input, "--headless", "--known", known, "--models", models,
		"--report", report, "--force", "--log-level", "warn")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	var rep live.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", report, err)
	}
	return &rep, nil
}
