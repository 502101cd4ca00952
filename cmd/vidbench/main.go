// Command vidbench measures vidtag against its references on the shared
// clips, side by side in one run, each variant as its own process (model
// loading included), repeated to take the minimum and median:
//
//   - ceiling:  ffmpeg decoding and re-encoding the clip with vidtag's
//     encoder settings, the I/O limit no tagger can beat;
//   - naive-1x: the plain per-frame loop (naive.go), the speed reference;
//   - naive-2x: the same loop on frames upscaled 2x, the accuracy reference
//     (slow: by default it runs on the smallest clip only and the others
//     reuse the scores that "vidbench -full" stored in bench/reference.json);
//   - vidtag:   "vidtag annotate" with default settings (the UltraFace CNN);
//   - vidtag-hog: the same with --detector hog, dlib's HOG through go-face;
//   - vidtag-blur: "vidtag annotate --blur all", the cost of hiding every
//     face (its sidecar is the same as vidtag's, so it is not scored);
//   - decode:   ffmpeg decoding the clip and nothing else;
//   - index:    "vidtag batch --sidecar-only" on a folder holding the clip
//     (archive indexing: sidecar and report, no video written);
//   - live:     "vidtag live --headless" playing the Hamilton clip at its own
//     rate: display fps, capture-to-display latency (p50, p95, max) and
//     frames dropped, from the session's report (live.go).
//
// Scores come from ../shared/tools/eval_tags.py against the ground truth.
//
//	go run ./cmd/vidbench -runs 5            (make bench)
//	go run ./cmd/vidbench -full -runs 1      (make bench-full)
//	go run ./cmd/vidbench -batch -runs 3     (make bench-batch; see batch.go)
//	go run ./cmd/vidbench -memory 4k,1080p,3min (make bench-memory; see memory.go)
//	go run ./cmd/vidbench shards -pods 8,64  (make bench-shards; see shards.go)
//	go run ./cmd/vidbench live -vidtag OLD,NEW (live only, binaries side by side; see live.go)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/settings"
)

// pythonFPS is what face_recognition's video example manages on the
// Hamilton clip on a 2-core machine (the figure).
const pythonFPS = 5.0

func main() {
	if len(os.Args) > 1 && os.Args[1] == "naive" {
		os.Exit(naiveMain(os.Args[2:]))
	}
	if len(os.Args) > 2 && os.Args[1] == "prime" {
		mb, err := strconv.Atoi(os.Args[2])
		if err == nil {
			err = primeMemory(mb)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "vidbench prime:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "shards" {
		if err := shardsMain(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "vidbench shards:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "live" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := liveMain(ctx, os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "vidbench live:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "embed" {
		if err := embedMain(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "vidbench embed:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchMain(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vidbench:", err)
		os.Exit(1)
	}
}

func naiveMain(args []string) int {
	fs := flag.NewFlagSet("naive", flag.ExitOnError)
	scale := fs.Float64("scale", 1, "upscale factor before detection")
	models := fs.String("models", "models", "model folder")
	fs.Parse(args)
	if fs.NArg() != 3 {
		fmt.Fprintln(os.Stderr, "usage: vidbench naive [-scale S] INPUT KNOWN SIDECAR")
		return 2
	}
	if err := naive(context.Background(), fs.Arg(0), fs.Arg(1), *models, fs.Arg(2), *scale); err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		return 1
	}
	return 0
}

type config struct {
	data, tools, vidtag, out, reference, models string
	runs                                        int
	prime                                       int // MiB primed before each timed run (prime.go)
	full                                        bool
	clips                                       []string
	extra                                       []string // extra vidtag flags
	only                                        map[string]bool
}

func benchMain(ctx context.Context, args []string, stdout io.Writer) error {
	var c config
	fs := flag.NewFlagSet("vidbench", flag.ContinueOnError)
	def := os.Getenv("VIDTAG_TESTDATA")
	if def == "" {
		def = "../shared/testdata"
	}
	fs.StringVar(&c.data, "data", def, "shared test data folder")
	fs.StringVar(&c.tools, "eval", filepath.Join(filepath.Dir(def), "tools", "eval_tags.py"), "eval_tags.py")
	// What users run: the launcher, which starts the core with settings
	// the C libraries read as they load (package launchenv). -memory
	// samples the core beside it, with the same environment.
	fs.StringVar(&c.vidtag, "vidtag", "bin/vidtag", "vidtag binary (the launcher; vidtag-core beside it is the program proper)")
	fs.StringVar(&c.out, "out", "out/bench", "folder for outputs")
	fs.StringVar(&c.reference, "reference", "bench/reference.json", "stored naive-2x scores")
	fs.StringVar(&c.models, "models", "models", "model folder")
	fs.IntVar(&c.runs, "runs", 3, "timed runs per variant")
	fs.IntVar(&c.prime, "prime", 1536, "MiB touched and freed before every timed run, so that each starts from the same memory state (prime.go; 0: off)")
	fs.BoolVar(&c.full, "full", false, "run naive-2x on every clip and store its scores")
	batchMode := fs.Bool("batch", false, "measure batch instead: ten clips against one, and a re-run over 100 videos")
	memory := fs.String("memory", "", "measure peak RSS and the RSS curve instead, on these cases (comma separated: 4k,1080p,3min,60min)")
	clips := fs.String("clips", "short_hamilton_clip,obama_biden_720p,obama_1080p", "clips to measure")
	extra := fs.String("vidtag-flags", "", "extra flags for vidtag annotate (space separated)")
	only := fs.String("only", "", "run only these variants (comma separated: ceiling,naive-1x,naive-2x,vidtag,vidtag-blur,vidtag-hog,decode,index,live)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.clips = strings.Split(*clips, ",")
	c.extra = strings.Fields(*extra)
	if *only != "" {
		c.only = map[string]bool{}
		for _, v := range strings.Split(*only, ",") {
			c.only[v] = true
		}
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	if *batchMode {
		return benchBatch(ctx, c, stdout)
	}
	if *memory != "" {
		return benchMemory(ctx, c, strings.Split(*memory, ","), stdout)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ref := loadReference(c.reference)
	var rows []row
	for _, clip := range c.clips {
		r, err := benchClip(ctx, c, self, clip, ref)
		if err != nil {
			return fmt.Errorf("%s: %w", clip, err)
		}
		rows = append(rows, r...)
		printTable(stdout, rows)
		fmt.Fprintln(stdout)
	}
	if c.full {
		if err := saveReference(c.reference, ref); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "naive-2x scores stored in %s\n", c.reference)
	}
	printTargets(stdout, rows)
	if c.only == nil || c.only["live"] {
		fmt.Fprintln(stdout)
		return benchLive(ctx, []string{c.vidtag}, c.data, c.models, c.out, []string{"short_hamilton_clip"}, c.runs, stdout)
	}
	return nil
}

// variant is one way of processing a clip: a command to time, and the
// sidecar it writes (if any) to score.
type variant struct {
	name  string
	runs  int
	cmd   func() *exec.Cmd
	pred  string
	score bool
}

// row is one variant on one clip.
type row struct {
	clip, variant string
	frames        int
	walls         []time.Duration
	cpu           []time.Duration // user + system time of each run
	rssKB         int64
	videoSeconds  float64
	scores        *scores
	note          string
}

type scores struct {
	NamedFaceRecall float64 `json:"named_face_recall"`
	FalseNameRate   float64 `json:"false_name_rate"`
	FlickerPer100   float64 `json:"label_flicker_per_100_frames"`
	Recall          float64 `json:"detection_recall"`
	Precision       float64 `json:"detection_precision"`
}

func (r row) min() time.Duration    { return slicesMin(r.walls) }
func (r row) median() time.Duration { return medianOf(r.walls) }

func medianOf(d []time.Duration) time.Duration {
	w := append([]time.Duration(nil), d...)
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	if len(w) == 0 {
		return 0
	}
	return w[len(w)/2]
}
func (r row) fps() float64 {
	if m := r.median(); m > 0 {
		return float64(r.frames) / m.Seconds()
	}
	return 0
}

func slicesMin(w []time.Duration) time.Duration {
	if len(w) == 0 {
		return 0
	}
	m := w[0]
	for _, v := range w[1:] {
		m = min(m, v)
	}
	return m
}

func benchClip(ctx context.Context, c config, self, clip string, ref map[string]scores) ([]row, error) {
	input := filepath.Join(c.data, "clips", clip+".mp4")
	gt := filepath.Join(c.data, "groundtruth", clip+".gt.jsonl")
	known := filepath.Join(c.data, "known")
	info, err := media.Probe(ctx, input)
	if err != nil {
		return nil, err
	}
	gtFrames, err := countLines(gt)
	if err != nil {
		return nil, err
	}
	video := float64(gtFrames) / info.FrameRate.Float()
	out := func(name string) string { return filepath.Join(c.out, clip+"."+name) }
	d := settings.Defaults()
	// batch takes a folder: one holding just this clip.
	indexIn := out("index-in")
	if err := os.MkdirAll(indexIn, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		return nil, err
	}
	link := filepath.Join(indexIn, clip+".mp4")
	os.Remove(link)
	if err := os.Symlink(abs, link); err != nil {
		return nil, err
	}

	variants := []variant{
		{"ceiling", c.runs, func() *exec.Cmd {
			return exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-y", "-i", input, "-map", "0:v:0", "-map", "0:a?",
				"-c:v", "libx264", "-preset", annotate.EncoderPreset(d.Preset, info.Width, info.Height), "-crf", strconv.Itoa(d.CRF), "-pix_fmt", "yuv420p",
				"-movflags", "+faststart", "-c:a", "copy", out("ceiling.mp4"))
		}, "", false},
		{"naive-1x", c.runs, func() *exec.Cmd {
			return exec.CommandContext(ctx, self, "naive", "-models", c.models, "-scale", "1", input, known, out("naive1x.jsonl"))
		}, out("naive1x.jsonl"), true},
		{"vidtag", c.runs, func() *exec.Cmd {
			args := append([]string{"annotate", input, "-o", out("vidtag.mp4"), "--known", known, "--models", c.models, "--force",
				"--log-level", "warn"}, c.extra...)
			return exec.CommandContext(ctx, c.vidtag, args...)
		}, out("vidtag.jsonl"), true},
		{"vidtag-blur", c.runs, func() *exec.Cmd {
			args := append([]string{"annotate", input, "-o", out("blur.mp4"), "--known", known, "--models", c.models, "--force",
				"--log-level", "warn", "--blur", "all"}, c.extra...)
			return exec.CommandContext(ctx, c.vidtag, args...)
		}, "", false},
		{"vidtag-hog", c.runs, func() *exec.Cmd {
			args := append([]string{"annotate", input, "-o", out("hog.mp4"), "--known", known, "--models", c.models, "--force",
				"--log-level", "warn", "--detector", "hog"}, c.extra...)
			return exec.CommandContext(ctx, c.vidtag, args...)
		}, out("hog.jsonl"), true},
		{"decode", c.runs, func() *exec.Cmd {
			return exec.CommandContext(ctx, "ffmpeg", "-v", "error", "-i", input, "-map", "0:v:0", "-f", "null", "-")
		}, "", false},
		{"index", c.runs, func() *exec.Cmd {
			args := append([]string{"batch", indexIn, "-o", out("index"), "--known", known, "--models", c.models, "--force",
				"--sidecar-only", "--log-level", "warn"}, c.extra...)
			return exec.CommandContext(ctx, c.vidtag, args...)
		}, "", false},
	}
	// naive-2x is slow: by default only on the small clip, otherwise from the stored reference.
	run2x := c.full || clip == "short_hamilton_clip"
	if run2x {
		runs := c.runs
		if c.full {
			runs = 1
		}
		naive2x := variant{"naive-2x", runs, func() *exec.Cmd {
			return exec.CommandContext(ctx, self, "naive", "-models", c.models, "-scale", "2", input, known, out("naive2x.jsonl"))
		}, out("naive2x.jsonl"), true}
		variants = append(variants[:2], append([]variant{naive2x}, variants[2:]...)...)
	}
	// Round-robin: run i of every variant before run i+1 of any, so that
	// a slow spell on a shared machine hits all variants alike and the
	// ratios stay fair.
	rows := make([]row, 0, len(variants))
	var todo []variant
	for _, v := range variants {
		if c.only == nil || c.only[v.name] {
			todo = append(todo, v)
			rows = append(rows, row{clip: clip, variant: v.name, frames: gtFrames, videoSeconds: video})
		}
	}
	for i := 0; ; i++ {
		ran := false
		for k, v := range todo {
			if i >= v.runs {
				continue
			}
			ran = true
			r := &rows[k]
			cmd := v.cmd()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := prime(ctx, c.prime); err != nil {
				return nil, fmt.Errorf("prime memory: %w", err)
			}
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s: %v: %s", v.name, err, strings.TrimSpace(stderr.String()))
			}
			r.walls = append(r.walls, time.Since(t0))
			r.cpu = append(r.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				r.rssKB = max(r.rssKB, ru.Maxrss)
			}
			fmt.Fprintf(os.Stderr, "  %s %s run %d: %.2fs\n", clip, v.name, i+1, r.walls[i].Seconds())
		}
		if !ran {
			break
		}
	}
	for k, v := range todo {
		if !v.score {
			continue
		}
		s, err := evalTags(ctx, c.tools, gt, v.pred) // every run writes the same (deterministic) sidecar
		if err != nil {
			return nil, err
		}
		rows[k].scores = s
		if v.name == "naive-2x" {
			ref[clip] = *s
		}
	}
	if !run2x {
		if s, ok := ref[clip]; ok {
			rows = append(rows, row{clip: clip, variant: "naive-2x", frames: gtFrames, videoSeconds: video, scores: &s, note: "scores from " + c.reference})
		}
	}
	return rows, nil
}

func evalTags(ctx context.Context, script, gt, pred string) (*scores, error) {
	out, err := exec.CommandContext(ctx, "python3", script, gt, pred, "--json").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("eval_tags.py: %s", ee.Stderr)
		}
		return nil, fmt.Errorf("eval_tags.py: %w", err)
	}
	var s scores
	return &s, json.Unmarshal(out, &s)
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	return n, sc.Err()
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clip\tvariant\tframes\twall min\twall median\tfps\treal time\tpeak RSS\tnamed recall\tfalse names\tflicker/100\trecall\tprecision\t")
	for _, r := range rows {
		timing := "\t\t\t\t\t"
		if len(r.walls) > 0 {
			timing = fmt.Sprintf("%.2fs\t%.2fs\t%.1f\t%.2fx\t%d MB\t", r.min().Seconds(), r.median().Seconds(), r.fps(),
				r.videoSeconds/r.median().Seconds(), r.rssKB/1024)
		}
		sc := "\t\t\t\t\t"
		if r.scores != nil {
			s := r.scores
			sc = fmt.Sprintf("%.4f\t%.4f\t%.2f\t%.4f\t%.4f\t", s.NamedFaceRecall, s.FalseNameRate, s.FlickerPer100, s.Recall, s.Precision)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s%s%s\n", r.clip, r.variant, r.frames, timing, sc, r.note)
	}
	tw.Flush()
}

// printTargets checks the speed issue's targets on the measured rows.
func printTargets(w io.Writer, rows []row) {
	byClip := map[string]map[string]row{}
	var clips []string
	for _, r := range rows {
		if byClip[r.clip] == nil {
			byClip[r.clip] = map[string]row{}
			clips = append(clips, r.clip)
		}
		byClip[r.clip][r.variant] = r
	}
	fmt.Fprintln(w, "targets (vidtag vs references, this run):")
	for _, clip := range clips {
		v, n1, n2 := byClip[clip]["vidtag"], byClip[clip]["naive-1x"], byClip[clip]["naive-2x"]
		hog, ceil, dec, idx := byClip[clip]["vidtag-hog"], byClip[clip]["ceiling"], byClip[clip]["decode"], byClip[clip]["index"]
		blurred := byClip[clip]["vidtag-blur"]
		speed := v.fps() / math.Max(n1.fps(), 1e-9)
		line := fmt.Sprintf("  %-20s fps %.1f = %.2fx naive-1x [>=3: %s], %.2fx real time", clip, v.fps(), speed, ok(speed >= 3), v.videoSeconds/v.median().Seconds())
		if len(hog.walls) > 0 && len(ceil.walls) > 0 {
			ceilMax := 1.6
			if clip == "short_hamilton_clip" {
				ceilMax = 2
			}
			vs := v.median().Seconds() / hog.median().Seconds()
			vc := v.median().Seconds() / ceil.median().Seconds()
			line += fmt.Sprintf("; wall %.2fx vidtag-hog's [<=1: %s], %.2fx the ceiling's [<=%g: %s]", vs, ok(vs <= 1), vc, ceilMax, ok(vc <= ceilMax))
		}
		if len(blurred.walls) > 0 && len(v.walls) > 0 {
			// CPU time too: on a shared machine it moves less than wall time.
			r := blurred.median().Seconds() / v.median().Seconds()
			c := medianOf(blurred.cpu).Seconds() / medianOf(v.cpu).Seconds()
			line += fmt.Sprintf("; --blur all %.2fx vidtag's wall [<=1.10: %s] (%.2fx its CPU time)", r, ok(r <= 1.10), c)
		}
		if len(idx.walls) > 0 && len(dec.walls) > 0 {
			r := idx.median().Seconds() / dec.median().Seconds()
			line += fmt.Sprintf("; index %.2fx a plain decode [<=3: %s]", r, ok(r <= 3))
		}
		if clip == "short_hamilton_clip" {
			line += fmt.Sprintf(" [>=2: %s], %.1fx face_recognition's ~%g fps", ok(v.videoSeconds/v.median().Seconds() >= 2), v.fps()/pythonFPS, pythonFPS)
		}
		if clip == "obama_1080p" {
			line += fmt.Sprintf(" [>=1: %s], peak RSS %d MB [<=1536: %s]", ok(v.videoSeconds/v.median().Seconds() >= 1), v.rssKB/1024, ok(v.rssKB/1024 <= 1536))
		}
		if v.scores != nil && hog.scores != nil {
			line += fmt.Sprintf("; detection recall %.4f (hog %.4f)", v.scores.Recall, hog.scores.Recall)
			if clip == "short_hamilton_clip" {
				line += fmt.Sprintf(" [>=0.95: %s]", ok(v.scores.Recall >= 0.95))
			}
		}
		fmt.Fprintln(w, line)
		if v.scores != nil && n2.scores != nil {
			a, b := v.scores, n2.scores
			flickerMax := math.Max(b.FlickerPer100/5, 0.2)
			fmt.Fprintf(w, "  %-20s named recall %.4f vs naive-2x %.4f [>= -0.02: %s], false names %.4f vs %.4f [<=: %s], flicker %.2f [<= %.2f: %s]\n", "",
				a.NamedFaceRecall, b.NamedFaceRecall, ok(a.NamedFaceRecall >= b.NamedFaceRecall-0.02),
				a.FalseNameRate, b.FalseNameRate, ok(a.FalseNameRate <= b.FalseNameRate),
				a.FlickerPer100, flickerMax, ok(a.FlickerPer100 <= flickerMax))
		}
	}
}

func ok(b bool) string {
	if b {
		return "ok"
	}
	return "MISSED"
}

func loadReference(path string) map[string]scores {
	ref := map[string]scores{}
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &ref)
	}
	return ref
}

func saveReference(path string, ref map[string]scores) error {
	b, err := json.MarshalIndent(ref, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
