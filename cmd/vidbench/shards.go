package main

// vidbench shards: the makespan of a 10,000-video archive run as a
// Kubernetes Indexed Job, for each way of choosing completions against
// parallelism (the model is internal/shardsim's; it takes well under a
// second and runs no video).
//
//	go run ./cmd/vidbench shards -pods 8,64 -seeds 10

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vidtag/vidtag/internal/shardsim"
)

func shardsMain(args []string, stdout io.Writer) error {
	m := shardsim.Default()
	fs := flag.NewFlagSet("shards", flag.ContinueOnError)
	pods := fs.String("pods", "8,64", "parallelism values to simulate (comma separated)")
	seeds := fs.Int("seeds", 10, "archives drawn (seeds 1..N); best, median and worst are printed")
	fs.IntVar(&m.Videos, "videos", m.Videos, "videos in the archive")
	fs.Float64Var(&m.Share1080, "share-1080p", m.Share1080, "fraction of the videos at 1080p (the rest 720p)")
	fs.Float64Var(&m.PerPodSec, "per-pod", m.PerPodSec, "start-up seconds of each pod (one a shard)")
	fs.Float64Var(&m.PerFileSec, "per-file", m.PerFileSec, "seconds of fixed cost a video")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ps []int
	for _, s := range strings.Split(*pods, ",") {
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 {
			return fmt.Errorf("-pods %q: want positive integers", *pods)
		}
		ps = append(ps, p)
	}
	fmt.Fprintf(stdout, "%d videos, log-normal lengths (median %.0f min, sigma %.1f, %.0f s to %.0f h), %.0f%% at 1080p (%.1f fps a pod) and the rest 720p (%.1f fps);\n",
		m.Videos, m.MedianSec/60, m.Sigma, m.MinSec, m.MaxSec/3600, 100*m.Share1080, m.FPS1080, m.FPS720)
	fmt.Fprintf(stdout, "%.2f s a video, %.0f s a pod, %d videos at once a pod; %d archives. Recommended: completions = %dx parallelism, --long-shards = parallelism, --long-size %d MB.\n\n",
		m.PerFileSec, m.PerPodSec, m.JobsPerPod, *seeds, shardsim.Recommended.Multiple, shardsim.Recommended.LongSize/1e6)
	fmt.Fprint(stdout, shardsim.Format(m.Table(ps, *seeds)))
	return nil
}
