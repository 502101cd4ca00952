package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
	"github.com/vidtag/vidtag/people"
	"github.com/vidtag/vidtag/pipeline"
)

// Statuses of a video in the batch report.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"
	StatusSkipped = "skipped" // complete from an earlier run with the same input and settings
)

// Options are one batch run's settings.
type Options struct {
	In, Out     string
	Jobs        int   // videos processed at once
	Shard       Shard // this process's share of the files
	SidecarOnly bool
	Force       bool // redo videos that are complete
	// Tag holds the tagging settings; Input, Output, Sidecar, Report and
	// Force are filled per video. Tag.Settings must identify every setting
	// that changes the outputs.
	Tag annotate.Options
	// Env loads the models and known faces; it is called once, and only
	// when some video needs processing (a re-run over a complete folder
	// loads nothing).
	Env func() (*engine.Env, error)
	Log *zap.Logger
	// Progress, when set, is called as videos and frames advance, from
	// one job at a time (never concurrently), with counts that only grow.
	Progress func(Progress)
	// Stats, when set, is given each tagged video's step timings (the
	// --stats table), from several jobs at once.
	Stats func(*pipeline.Stats)
}

// Progress is how far a batch has got.
type Progress struct {
	Videos, VideosDone int
	Frames             int // frames processed so far in this run
}

// VideoResult is one line of the batch report.
type VideoResult struct {
	Input  string             `json:"input"`
	Status string             `json:"status"`
	Error  string             `json:"error,omitempty"`
	Frames int                `json:"frames"`
	FPS    float64            `json:"fps"`
	People map[string]float64 `json:"people"` // label -> seconds on screen
	// Rechecked: tagged a second time because the strangers of the
	// batch's other videos took a name away (see recheck).
	Rechecked bool `json:"rechecked,omitempty"`
}

// Report is the batch report.
type Report struct {
	Shard       string `json:"shard,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// Shards and MissingShards are set by Merge: how many shard reports
	// were folded in, and which indices had none (yet).
	Shards        int           `json:"shards,omitempty"`
	MissingShards []int         `json:"missing_shards,omitempty"`
	Started       time.Time     `json:"started,omitzero"`
	Finished      time.Time     `json:"finished,omitzero"`
	Videos        []VideoResult `json:"videos"`
	Totals        Totals        `json:"totals"`
	// People is each person's timeline across the videos, written by
	// people.Unify once the run (or, sharded, vidtag merge) is done.
	People json.RawMessage `json:"people,omitempty"`
}

// Totals sum up the batch.
type Totals struct {
	Videos      int     `json:"videos"`
	OK          int     `json:"ok"`
	Failed      int     `json:"failed"`
	Skipped     int     `json:"skipped"`
	Frames      int     `json:"frames"` // processed in this run
	WallSeconds float64 `json:"wall_seconds"`
	FPS         float64 `json:"fps"` // frames processed per wall second
}

// Failed reports whether any video failed.
func (r *Report) Failed() bool { return r.Totals.Failed > 0 }

// ReportPath is where a batch (or shard) writes its report.
func ReportPath(out string, s Shard) string {
	if s.Count > 1 {
		return filepath.Join(out, fmt.Sprintf("batch-report.shard-%d-of-%d.json", s.Index, s.Count))
	}
	return filepath.Join(out, "batch-report.json")
}

// Run tags every video of this shard. A video's failure is recorded and the
// batch goes on; Run itself fails only when the folders are unusable or
// the run is cancelled (then the report lists what was finished).
func Run(ctx context.Context, opt Options) (*Report, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	if err := CheckFolders(opt.In, opt.Out); err != nil {
		return nil, err
	}
	all, unreadable, err := discover(opt.In, opt.Out)
	if err != nil {
		return nil, err
	}
	if err := CheckOutputs(all, opt.Out, opt.Shard); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, fmt.Errorf("%s: cannot create the output folder: %w", opt.Out, outfile.UnwrapPathError(err))
	}
	// One batch (or shard) at a time writes a report: a second one over
	// the same output folder refuses before doing anything.
	lock, err := outfile.Acquire(ReportPath(opt.Out, opt.Shard))
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	for _, u := range unreadable {
		log.Warn("folder skipped", zap.String("folder", u.Input), zap.String("error", u.Error))
	}
	var vids []Video
	for _, v := range all {
		if opt.Shard.Owns(v) {
			vids = append(vids, v)
		}
	}
	log.Info("batch", zap.String("input", opt.In), zap.Int("videos", len(all)), zap.Stringer("shard", opt.Shard),
		zap.Int("this_shard", len(vids)), zap.Int("jobs", opt.Jobs))
	// What this shard will do, for vidtag status (which reads only the
	// output folder).
	if err := writePlan(opt, start, len(all)+len(unreadable), vids); err != nil {
		return nil, err
	}

	env := lazyEnv(opt.Env)
	results := make([]VideoResult, len(vids))
	done := make([]bool, len(vids))
	var mu sync.Mutex
	prog := Progress{Videos: len(vids)}
	report := func(frames int, finished bool) {
		mu.Lock()
		prog.Frames += frames
		if finished {
			prog.VideosDone++
		}
		// Under the lock: the callback sees one call at a time, in order.
		if opt.Progress != nil {
			opt.Progress(prog)
		}
		mu.Unlock()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for j := 0; j < max(1, opt.Jobs); j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, cut := runOne(ctx, opt, env, vids[i], log, func(n int) { report(n, false) }, nil)
				results[i], done[i] = r, !cut // a video cut short by an interrupt is not reported
				report(0, true)
			}
		}()
	}
feed:
	for i := range vids {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if ctx.Err() == nil {
		recheck(ctx, opt, env, vids, results, done, log, func(n int) { report(n, false) })
	}

	rep := &Report{Interrupted: ctx.Err() != nil, Started: start.UTC().Round(time.Millisecond), Videos: []VideoResult{}}
	if opt.Shard.Count > 1 {
		rep.Shard = opt.Shard.String()
	}
	for i, r := range results {
		if !done[i] {
			continue // not reached, or cut short by the interrupt
		}
		rep.Videos = append(rep.Videos, r)
		switch r.Status {
		case StatusOK:
			rep.Totals.OK++
			rep.Totals.Frames += r.Frames
		case StatusFailed:
			rep.Totals.Failed++
			rep.Totals.Frames += r.Frames
		case StatusSkipped:
			rep.Totals.Skipped++
		}
	}
	for _, u := range unreadable {
		if opt.Shard.Owns(Video{Rel: u.Input}) {
			rep.Videos = append(rep.Videos, u)
			rep.Totals.Failed++
			rep.Totals.Videos++
		}
	}
	rep.Totals.Videos += len(vids)
	rep.Finished = time.Now().UTC().Round(time.Millisecond)
	rep.Totals.WallSeconds = tidy.Round(time.Since(start).Seconds(), 3)
	if rep.Totals.WallSeconds > 0 {
		rep.Totals.FPS = tidy.Round(float64(rep.Totals.Frames)/rep.Totals.WallSeconds, 2)
	}
	if err := outfile.WriteJSON(ReportPath(opt.Out, opt.Shard), rep, 0o644); err != nil {
		return rep, err
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	// Clusters span the whole run, so they are decided once every video
	// is done. A shard cannot know when the others are: `vidtag merge`
	// does it for sharded runs.
	if opt.Shard.Count <= 1 {
		started := time.Now()
		sum, err := people.Unify(ctx, opt.Out)
		if err != nil {
			return rep, fmt.Errorf("people: %w", err)
		}
		for _, w := range sum.Warnings {
			log.Warn("people", zap.String("warning", w))
		}
		log.Info("people", zap.Int("videos", sum.Videos), zap.Int("strangers", sum.Strangers), zap.Int("clusters", sum.Clusters),
			zap.Float64("cut", sum.Cut), zap.Int("files_rewritten", len(sum.Written)), zap.Duration("took", time.Since(started).Round(time.Millisecond)))
		// The report now has the people's timelines: show what it says.
		if b, err := os.ReadFile(ReportPath(opt.Out, opt.Shard)); err == nil {
			var again Report
			if json.Unmarshal(b, &again) == nil {
				rep.Videos = again.Videos
			}
		}
	}
	return rep, nil
}

// runOne handles one video: skip it if complete, else tag it. cut is true
// when an interrupt stopped it. A cohort (batch strangers, see recheck)
// tags it again whatever is there.
func runOne(ctx context.Context, opt Options, env *envOnce, v Video, log *zap.Logger, frames func(int), cohort []gallery.Descriptor) (res VideoResult, cut bool) {
	res = VideoResult{Input: v.Rel, People: map[string]float64{}}
	fail := func(err error) (VideoResult, bool) {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return res, true
		}
		res.Status, res.Error = StatusFailed, errorText(err, v.Path)
		log.Warn("video failed", zap.String("input", v.Rel), zap.String("error", res.Error))
		return res, false
	}
	tag := videoTag(opt, v)
	tag.Cohort = cohort
	if !opt.Force && cohort == nil {
		if prev, ok := complete(v, tag); ok {
			res.Status, res.Frames, res.FPS, res.People = StatusSkipped, prev.Frames, prev.FPS, prev.Seconds()
			log.Debug("video complete, skipped", zap.String("input", v.Rel))
			return res, false
		}
	}
	if err := os.MkdirAll(filepath.Dir(v.OutBase), 0o755); err != nil {
		return fail(err)
	}
	plan, err := annotate.Prepare(ctx, tag) // also removes what killed runs left
	if err != nil {
		return fail(err)
	}
	e, err := env.get()
	if err != nil {
		plan.Release()
		return fail(err)
	}
	done := 0
	plan.Progress = func(n, _ int) { frames(n - done); done = n }
	r, err := annotate.Run(ctx, e, plan)
	if r != nil {
		res.Frames, res.FPS = r.Frames, tidy.Round(r.FPS(), 2)
		res.People = annotate.NewReport(r).Seconds()
		if opt.Stats != nil && r.Stats != nil {
			opt.Stats(r.Stats)
		}
	}
	if err != nil {
		return fail(err)
	}
	res.Status = StatusOK
	log.Info("video done", zap.String("input", v.Rel), zap.Int("frames", res.Frames), zap.Float64("fps", res.FPS))
	return res, false
}

// videoTag is the batch's tagging settings with v's inputs and outputs.
func videoTag(opt Options, v Video) annotate.Options {
	tag := opt.Tag
	tag.Input, tag.Sidecar, tag.Report, tag.Tracks, tag.Force = v.Path, v.Sidecar(), v.Report(), v.Tracks(), true
	tag.People, tag.PeopleBase, tag.Name = people.PathFor(v.OutBase), v.OutBase, v.Rel
	tag.SidecarOnly = opt.SidecarOnly
	tag.Output = ""
	if !opt.SidecarOnly {
		tag.Output = v.MP4()
	}
	return tag
}

// complete reports whether v's outputs are there and were made from this
// input (same size and modification time) with these settings. Only the
// report and a stat of each file are read: no decoding.
func complete(v Video, tag annotate.Options) (*annotate.Report, bool) {
	b, err := os.ReadFile(v.Report())
	if err != nil {
		return nil, false
	}
	var rep annotate.Report
	if json.Unmarshal(b, &rep) != nil || rep.Truncated || rep.Settings != tag.Settings {
		return nil, false
	}
	src, err := annotate.SourceOf(v.Path)
	if err != nil || src != rep.Source {
		return nil, false
	}
	for _, p := range []string{tag.Output, tag.People} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return nil, false
		}
	}
	if _, err := os.Stat(v.Tracks()); err != nil {
		return nil, false
	}
	// The sidecar has one line per frame: one cut short is not complete.
	if n, err := countLines(v.Sidecar()); err != nil || n != rep.Frames {
		return nil, false
	}
	return &rep, true
}

// countLines counts the complete (newline-ended) lines of a file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// envOnce loads the environment on first use.
type envOnce struct {
	load func() (*engine.Env, error)
	once sync.Once
	env  *engine.Env
	err  error
}

func lazyEnv(load func() (*engine.Env, error)) *envOnce { return &envOnce{load: load} }

func (e *envOnce) get() (*engine.Env, error) {
	e.once.Do(func() { e.env, e.err = e.load() })
	return e.env, e.err
}

// errorText is an error for the report: one line, without the input path
// it repeats.
func errorText(err error, path string) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	return tidy.OneLine(strings.TrimPrefix(err.Error(), path+": "))
}

// Table prints the report as a table, one video a line.
func (r *Report) Table() string {
	var b strings.Builder
	w := 5
	for _, v := range r.Videos {
		w = max(w, len(v.Input))
	}
	fmt.Fprintf(&b, "%-*s  %-7s  %6s  %6s  %s\n", w, "video", "status", "frames", "fps", "people (s) / error")
	for _, v := range r.Videos {
		detail := v.Error
		if detail == "" {
			var names []string
			for l := range v.People {
				names = append(names, l)
			}
			sort.Strings(names)
			for _, l := range names {
				detail += fmt.Sprintf("%s %.1f  ", l, v.People[l])
			}
			detail = strings.TrimSpace(detail)
		}
		fmt.Fprintf(&b, "%-*s  %-7s  %6d  %6.1f  %s\n", w, v.Input, v.Status, v.Frames, v.FPS, detail)
	}
	t := r.Totals
	fmt.Fprintf(&b, "%d videos: %d ok, %d failed, %d skipped; %d frames in %.1fs (%.1f fps)", t.Videos, t.OK, t.Failed, t.Skipped, t.Frames, t.WallSeconds, t.FPS)
	if r.Interrupted {
		b.WriteString("; interrupted")
	}
	return b.String()
}
