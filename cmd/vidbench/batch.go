package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// benchBatch measures the batch targets:
//   - start-up is amortised: over a folder of ten short clips, batch
//     throughput (frames / wall second) against annotate on one clip with
//     the same frames (the ten clips are cut from it, encoded alike);
//   - a re-run over a completed folder, per 100 videos (no decoding).
func benchBatch(ctx context.Context, c config, w io.Writer) error {
	dir := filepath.Join(c.out, "batch")
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(c.data, "clips", "obama_biden_720p.mp4")
	enc := []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "21"}
	// The 720p clip four times over (1704 frames, 57 s): every clip below
	// is cut from it and encoded alike, so decoding costs the same.
	long := filepath.Join(dir, "long.mp4")
	if err := ff(ctx, append([]string{"-stream_loop", "3", "-i", src, "-an"}, append(enc, long)...)...); err != nil {
		return err
	}
	fmt.Fprintf(w, "batch throughput (medians of %d runs; vidtag's default settings):\n", c.runs)
	for _, size := range []struct {
		name        string
		clips, per  int
		jobSettings []string
	}{
		{"ten short clips (5.7 s each)", 10, 170, []string{"0", "1", "2"}},
		{"ten very short clips (1.4 s each)", 10, 42, []string{"0"}},
	} {
		if err := benchFolder(ctx, c, w, dir, long, enc, size.name, size.clips, size.per, size.jobSettings); err != nil {
			return err
		}
	}
	return benchRerun(ctx, c, w, dir)
}

// benchFolder times annotate on one clip of clips*per frames against batch
// on the same frames cut into clips.
func benchFolder(ctx context.Context, c config, w io.Writer, dir, long string, enc []string, name string, clips, per int, jobs []string) error {
	in := filepath.Join(dir, fmt.Sprintf("%dx%d", clips, per))
	if err := os.MkdirAll(in, 0o755); err != nil {
		return err
	}
	whole := filepath.Join(dir, fmt.Sprintf("whole-%d.mp4", clips*per))
	if err := ff(ctx, append([]string{"-i", long, "-frames:v", strconv.Itoa(clips * per)}, append(enc, whole)...)...); err != nil {
		return err
	}
	for i := 0; i < clips; i++ {
		sel := fmt.Sprintf("select=between(n\\,%d\\,%d),setpts=N/FRAME_RATE/TB", i*per, i*per+per-1)
		if err := ff(ctx, append([]string{"-i", long, "-vf", sel}, append(enc, filepath.Join(in, fmt.Sprintf("part%02d.mp4", i)))...)...); err != nil {
			return err
		}
	}
	common := []string{"--known", filepath.Join(c.data, "known"), "--models", c.models, "--log-level", "warn", "--force"}
	runs := map[string][]time.Duration{}
	for r := 0; r < c.runs; r++ {
		d, err := timeVidtag(ctx, c, append([]string{"annotate", whole, "-o", whole + ".out.mp4"}, common...)...)
		if err != nil {
			return err
		}
		runs["annotate"] = append(runs["annotate"], d)
		for _, j := range jobs {
			d, err := timeVidtag(ctx, c, append([]string{"batch", in, "-o", in + ".out" + j, "--jobs", j}, common...)...)
			if err != nil {
				return err
			}
			runs[j] = append(runs[j], d)
		}
		fmt.Fprintf(os.Stderr, "  %s run %d done\n", name, r+1)
	}
	frames := float64(clips * per)
	one := frames / median(runs["annotate"]).Seconds()
	fmt.Fprintf(w, "  %s, %d frames in all\n", name, clips*per)
	fmt.Fprintf(w, "    annotate, one clip:        %6.2fs  %5.1f fps\n", median(runs["annotate"]).Seconds(), one)
	for _, j := range jobs {
		f := frames / median(runs[j]).Seconds()
		label := "batch --jobs " + j
		if j == "0" {
			label = "batch (default jobs)"
		}
		fmt.Fprintf(w, "    %-26s %6.2fs  %5.1f fps = %.2fx annotate", label+":", median(runs[j]).Seconds(), f, f/one)
		if j == "0" && clips*per >= 1000 {
			fmt.Fprintf(w, " [>=0.9: %s]", ok(f/one >= 0.9))
		}
		fmt.Fprintln(w)
	}
	return nil
}

// benchRerun tags a hundred tiny videos once (sidecar only), then times a
// re-run over the completed folder.
func benchRerun(ctx context.Context, c config, w io.Writer, dir string) error {
	many := filepath.Join(dir, "hundred")
	if err := os.MkdirAll(many, 0o755); err != nil {
		return err
	}
	tiny := filepath.Join(dir, "tiny.mp4")
	if err := ff(ctx, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "0.5", "-c:v", "libx264", "-preset", "ultrafast", tiny); err != nil {
		return err
	}
	b, err := os.ReadFile(tiny)
	if err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if err := os.WriteFile(filepath.Join(many, "v"+strconv.Itoa(i)+".mp4"), b, 0o644); err != nil {
			return err
		}
	}
	out := filepath.Join(dir, "hundred.out")
	args := []string{"batch", many, "-o", out, "--sidecar-only", "--known", filepath.Join(c.data, "known"), "--models", c.models, "--log-level", "warn"}
	if _, err := timeVidtag(ctx, c, args...); err != nil {
		return err
	}
	var rerun []time.Duration
	for r := 0; r < c.runs; r++ {
		d, err := timeVidtag(ctx, c, args...)
		if err != nil {
			return err
		}
		rerun = append(rerun, d)
	}
	fmt.Fprintf(w, "  re-run over 100 complete videos: %.3fs, whole process (median of %d) [<2s: %s]\n", median(rerun).Seconds(), c.runs, ok(median(rerun) < 2*time.Second))
	return nil
}

func timeVidtag(ctx context.Context, c config, args ...string) (time.Duration, error) {
	if err := prime(ctx, c.prime); err != nil {
		return 0, fmt.Errorf("prime memory: %w", err)
	}
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, c.vidtag, args...).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || args[0] != "batch" {
			return 0, fmt.Errorf("vidtag %v: %v: %s", args, err, out)
		}
	}
	return time.Since(t0), nil
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ff(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg %v: %v: %s", args, err, out)
	}
	return nil
}
