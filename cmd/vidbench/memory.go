package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vidtag/vidtag/internal/launchenv"
)

// benchMemory measures vidtag's memory (make bench-memory): peak RSS at
// 4K and 1080p against the targets (4K <= 1.5 GB, 1080p <= 0.8 GB), and the
// RSS curve over long inputs, which must stay flat (within +-10% of its
// median after the first minute). Inputs are made here with ffmpeg:
//
//   - 4k:    images/obama-1080p.jpg scaled to 3840x2160, 5 s at 30 fps + audio;
//   - 1080p: clips/obama_1080p.mp4 as it is;
//   - 3min:  the Hamilton clip looped to 3 minutes (stream copy);
//   - 60min: the Hamilton clip looped to 60 minutes (stream copy; the run
//     takes 30-50 minutes on two shared cores, so it is not in the default
//     set).
//
// RSS is sampled from /proc every 250 ms, for vidtag alone and with any
// child processes (x264 runs inside vidtag now; it was an ffmpeg child);
// the peak also comes from the kernel (rusage maxrss).
func benchMemory(ctx context.Context, c config, cases []string, w io.Writer) error {
	dir := filepath.Join(c.out, "memory")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hamilton := filepath.Join(c.data, "clips", "short_hamilton_clip.mp4")
	inputs := map[string]func(string) error{
		"4k": func(out string) error {
			return ff(ctx, "-loop", "1", "-framerate", "30", "-i", filepath.Join(c.data, "images", "obama-1080p.jpg"),
				"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "5",
				"-vf", "scale=3840:2160,zoompan=z='1+0.0015*on':d=1:s=3840x2160:fps=30,format=yuv420p",
				"-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-c:a", "aac", "-shortest", out)
		},
		"1080p": func(out string) error {
			return os.Symlink(mustAbs(filepath.Join(c.data, "clips", "obama_1080p.mp4")), out)
		},
		"3min": func(out string) error {
			return ff(ctx, "-stream_loop", "17", "-i", hamilton, "-t", "180", "-c", "copy", out)
		},
		"60min": func(out string) error {
			return ff(ctx, "-stream_loop", "360", "-i", hamilton, "-t", "3600", "-c", "copy", out)
		},
	}
	fmt.Fprintln(w, "memory (vidtag annotate, default settings; RSS sampled every 250 ms):")
	for _, name := range cases {
		mk, ok := inputs[name]
		if !ok {
			return fmt.Errorf("memory case %q: want one of 4k, 1080p, 3min, 60min", name)
		}
		input := filepath.Join(dir, name+".mp4")
		if _, err := os.Stat(input); err != nil {
			if err := mk(input); err != nil {
				return fmt.Errorf("make %s: %w", input, err)
			}
		}
		args := append([]string{"annotate", input, "-o", filepath.Join(dir, name+".out.mp4"), "--known",
			filepath.Join(c.data, "known"), "--models", c.models, "--force", "--log-level", "warn"}, c.extra...)
		// The core's own RSS: run it directly, as the launcher would.
		cmd := exec.CommandContext(ctx, coreOf(c.vidtag), args...)
		cmd.Env = launchenv.Core(os.Environ())
		m, err := measureRSS(ctx, cmd)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(w, "  %-6s wall %6.1fs  peak RSS %5d MB (kernel maxrss %5d MB; with children %5d MB)",
			name, m.wall.Seconds(), m.peak>>20, m.maxrss>>20, m.peakTree>>20)
		switch name {
		case "4k":
			fmt.Fprintf(w, " [<=1536: %s]", ok2(m.maxrss <= 1536<<20))
		case "1080p":
			fmt.Fprintf(w, " [<=800: %s]", ok2(m.maxrss <= 800<<20))
		}
		fmt.Fprintln(w)
		if m.wall > 90*time.Second {
			lo, hi, med := m.band(time.Minute)
			fmt.Fprintf(w, "         after the first minute: min %d MB, median %d MB, max %d MB: %+.1f%% / %+.1f%% [within 10%%: %s]\n",
				lo>>20, med>>20, hi>>20, 100*(float64(lo)/float64(med)-1), 100*(float64(hi)/float64(med)-1),
				ok2(float64(hi) <= 1.1*float64(med) && float64(lo) >= 0.9*float64(med)))
		}
		fmt.Fprintf(w, "         curve (MB every %s): %s\n", m.step(), m.curve())
	}
	return nil
}

func ok2(b bool) string { return ok(b) }

// coreOf is the core beside a launcher named vidtag (a core is itself).
func coreOf(bin string) string {
	if filepath.Base(bin) == "vidtag" {
		return filepath.Join(filepath.Dir(bin), "vidtag-core")
	}
	return bin
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

type rssSample struct {
	at       time.Duration
	self, tr int64 // bytes: vidtag, vidtag + children
}

type rssRun struct {
	samples                []rssSample
	peak, peakTree, maxrss int64
	wall                   time.Duration
}

// measureRSS runs cmd and samples its RSS until it exits.
func measureRSS(ctx context.Context, cmd *exec.Cmd) (*rssRun, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r := &rssRun{}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			r.wall = time.Since(t0)
			if err != nil {
				return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
			}
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				r.maxrss = ru.Maxrss << 10
			}
			return r, nil
		case <-tick.C:
			self := procRSS(cmd.Process.Pid)
			tree := self
			for _, child := range procChildren(cmd.Process.Pid) {
				tree += procRSS(child)
			}
			if self > 0 {
				r.samples = append(r.samples, rssSample{time.Since(t0), self, tree})
				r.peak, r.peakTree = max(r.peak, self), max(r.peakTree, tree)
			}
		}
	}
}

// procRSS is a process's resident set in bytes (0 once it is gone).
func procRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func procChildren(pid int) []int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// band is the min, max and median of vidtag's RSS after skip.
func (r *rssRun) band(skip time.Duration) (lo, hi, med int64) {
	var v []int64
	for _, s := range r.samples {
		if s.at >= skip {
			v = append(v, s.self)
		}
	}
	if len(v) == 0 {
		return 0, 0, 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return v[0], v[len(v)-1], v[len(v)/2]
}

// step spaces the curve to about 20 points.
func (r *rssRun) step() time.Duration {
	return max(time.Second, (r.wall / 20).Round(time.Second))
}

func (r *rssRun) curve() string {
	var b strings.Builder
	next := time.Duration(0)
	for _, s := range r.samples {
		if s.at >= next {
			fmt.Fprintf(&b, "%d ", s.self>>20)
			next += r.step()
		}
	}
	return strings.TrimSpace(b.String())
}
