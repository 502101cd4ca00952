// Package shardsim simulates a vidtag batch run as a Kubernetes Indexed Job,
// to choose its completions (shards) and parallelism (pods) from numbers
// rather than taste.
//
// The model, and where each number comes from:
//
//   - An archive of Videos files (default 10,000) with log-normal lengths:
//     median 3 minutes, sigma 1.1, so that the longest of 10,000 is about
//     3 hours (the 99.99th percentile); lengths are cut to [10 s, 3 h]. Each
//     video is 30 fps, 720p or 1080p with equal odds, at a synthetic path
//     (YEAR/MONTH/camera/clip-NNNNN.mp4).
//   - Throughput: vidtag annotate's measured fps with the default detector
//     on the 2-core machine (README, Performance: 31.7 fps at 720p, 17.5 fps
//     at 1080p), one pod being two cores (the manifest's cpu request).
//   - PerFile: 0.28 s a video that no tagger avoids (README, Batch: starting
//     ffmpeg and ffprobe, x264's set-up).
//   - PerPod: 20 s a pod (an estimate: scheduling and starting the
//     container, walking the shared input folder, loading the models; the
//     last two took 3-5 s each on local disk here).
//   - Within a pod, vidtag batch takes its shard's videos in path order,
//     Jobs (2) at a time, the pod's throughput shared between the videos
//     in progress (one video alone gets all of it).
//   - Shards: a video belongs to shard I of N by batch.Shard.Owns, the hash
//     of its path that --shard uses: the simulation runs that very function
//     on the synthetic paths, so a shard's load is whatever the hash gives.
//   - The Job: completions C, parallelism P. Indices go out in order, the
//     first P at once, then the next free index to whichever pod finishes
//     first, each index a new pod that pays PerPod.
//
// The makespan is compared with the ideal: the total work (every video's
// processing time, PerFile included, pods' start-up not) divided by P.
// Everything is seeded and deterministic.
package shardsim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/vidtag/vidtag/batch"
)

// Model is what the simulation assumes; Default is the documented one.
type Model struct {
	Videos     int
	MedianSec  float64 // median video length
	Sigma      float64 // log-normal shape
	MinSec     float64
	MaxSec     float64
	SourceFPS  float64
	Share1080  float64 // fraction of videos at 1080p, the rest 720p
	FPS720     float64 // vidtag's measured throughput per pod
	FPS1080    float64
	PerFileSec float64
	PerPodSec  float64
	JobsPerPod int
	// File sizes, for the long-first rule: bitrate (bits a second) at 720p
	// and 1080p, log-normal around these with BitrateSigma.
	Bitrate720, Bitrate1080, BitrateSigma float64
	Seed                                  uint64
	PathsPerYear                          int // only shapes the synthetic paths
}

// Default is the model the README's table uses.
func Default() Model {
	return Model{
		Videos: 10000, MedianSec: 180, Sigma: 1.1, MinSec: 10, MaxSec: 3 * 3600,
		SourceFPS: 30, Share1080: 0.5, FPS720: 31.7, FPS1080: 17.5,
		PerFileSec: 0.28, PerPodSec: 20, JobsPerPod: 2, Seed: 1, PathsPerYear: 2000,
		Bitrate720: 2.5e6, Bitrate1080: 5e6, BitrateSigma: 0.4,
	}
}

// Video is one synthetic input: its path and its processing time on one pod
// (working alone), in seconds.
type Video struct {
	Rel    string
	Size   int64   // bytes
	Length float64 // seconds of video
	Work   float64 // seconds of a pod's time, PerFile included
}

// Archive draws the model's videos, sorted by path as batch sorts them.
func (m Model) Archive() []Video {
	r := rand.New(rand.NewPCG(m.Seed, 0x5eed))
	vids := make([]Video, m.Videos)
	for i := range vids {
		l := m.MedianSec * math.Exp(m.Sigma*r.NormFloat64())
		l = min(max(l, m.MinSec), m.MaxSec)
		fps, rate := m.FPS720, m.Bitrate720
		if r.Float64() < m.Share1080 {
			fps, rate = m.FPS1080, m.Bitrate1080
		}
		rate *= math.Exp(m.BitrateSigma * r.NormFloat64())
		year := 2010 + i/max(1, m.PathsPerYear)
		vids[i] = Video{
			Rel:    fmt.Sprintf("%d/%02d/cam%d/clip-%05d.mp4", year, 1+r.IntN(12), r.IntN(4), i),
			Length: l,
			Size:   int64(l * rate / 8),
			Work:   l*m.SourceFPS/fps + m.PerFileSec,
		}
	}
	sort.Slice(vids, func(i, j int) bool { return vids[i].Rel < vids[j].Rel })
	return vids
}

// Result is one simulated run.
type Result struct {
	Name        string
	Videos      int
	Pods        int
	Completions int     // 0 for the longest-first reference
	Makespan    float64 // seconds from the Job's start to its last pod's end
	Ideal       float64 // total work / pods
	MaxShard    float64 // the longest shard's time on its pod, start-up included
}

// Ratio is the makespan over the ideal.
func (r Result) Ratio() float64 { return r.Makespan / r.Ideal }

// TotalWork sums the videos' processing times.
func TotalWork(vids []Video) float64 {
	var s float64
	for _, v := range vids {
		s += v.Work
	}
	return s
}

// IndexedJob simulates an Indexed Job of completions shards run by pods at
// a time, each pod running "vidtag batch --shard I/completions" with the
// long-first rule of rule (its Index and Count are ignored).
func (m Model) IndexedJob(vids []Video, pods, completions int, rule batch.Shard) Result {
	rule.Count = completions
	shards := make([][]float64, completions)
	for _, v := range vids { // in path order, as each shard takes them
		i := rule.Of(v.Rel, v.Size)
		shards[i] = append(shards[i], v.Work)
	}
	name := "completions = " + multiple(completions, pods)
	if rule.LongShards > 0 {
		name += fmt.Sprintf(", long-first (%d shards, from %d MB)", rule.LongShards, rule.LongSize/1e6)
	}
	res := Result{Name: name, Videos: len(vids), Pods: pods, Completions: completions,
		Ideal: TotalWork(vids) / float64(pods)}
	// Each index is a new pod: its time does not depend on when it starts.
	dur := make([]float64, completions)
	for i, s := range shards {
		dur[i] = m.PerPodSec + podTime(s, m.JobsPerPod)
		res.MaxShard = max(res.MaxShard, dur[i])
	}
	res.Makespan = listSchedule(dur, pods)
	return res
}

// LongestFirst is the reference that --shard cannot give: one work queue of
// all the videos, longest first, each to the pod that frees up first, every
// pod started once.
func (m Model) LongestFirst(vids []Video, pods int) Result {
	w := make([]float64, len(vids))
	for i, v := range vids {
		w[i] = v.Work
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(w)))
	// A pod working alone on one video at a time, as a work queue would
	// hand them out; its pod start-up is paid once.
	return Result{Name: "longest-first work queue (reference)", Videos: len(vids), Pods: pods,
		Makespan: m.PerPodSec + listSchedule(w, pods), Ideal: TotalWork(vids) / float64(pods)}
}

// podTime is how long one pod takes over works (in order), jobs at a time,
// sharing its throughput equally between the videos in progress.
func podTime(works []float64, jobs int) float64 {
	jobs = max(1, jobs)
	var t float64
	active := make([]float64, 0, jobs) // remaining work of the videos in progress
	next := 0
	for next < len(works) || len(active) > 0 {
		for len(active) < jobs && next < len(works) {
			active = append(active, works[next])
			next++
		}
		// Run until the first of the active videos finishes.
		lo := 0
		for i, a := range active {
			if a < active[lo] {
				lo = i
			}
		}
		step := active[lo]
		n := float64(len(active))
		t += step * n
		kept := active[:0]
		for i, a := range active {
			if i != lo {
				kept = append(kept, a-step)
			}
		}
		active = kept
	}
	return t
}

// listSchedule hands durations out in order, each to the first of pods
// slots to free up, and returns when the last one ends.
func listSchedule(durs []float64, pods int) float64 {
	h := make(slots, pods)
	var end float64
	for _, d := range durs {
		t := h[0] + d
		h[0] = t
		heap.Fix(&h, 0)
		end = max(end, t)
	}
	return end
}

type slots []float64

func (s slots) Len() int           { return len(s) }
func (s slots) Less(i, j int) bool { return s[i] < s[j] }
func (s slots) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s *slots) Push(x any)        { *s = append(*s, x.(float64)) }
func (s *slots) Pop() any {
	old := *s
	x := old[len(old)-1]
	*s = old[:len(old)-1]
	return x
}

func multiple(c, p int) string {
	if c == p {
		return "parallelism"
	}
	if c%p == 0 {
		return fmt.Sprintf("%dx parallelism", c/p)
	}
	return fmt.Sprint(c)
}

// Setting is one way to run the Job, for any parallelism P.
type Setting struct {
	Multiple int   // completions = Multiple * P
	LongSize int64 // > 0: the long-first rule, videos from this size to the first P shards
}

// Settings are what the table compares.
var Settings = []Setting{{1, 0}, {4, 0}, {16, 0}, {32, 0}, {64, 0}, {16, LongSize}, {32, LongSize}, {64, LongSize}}

// LongSize is the recommended --long-size: about 15 minutes of 1080p or
// 30 of 720p at the model's median bitrates.
const LongSize = 500e6

// Recommended is the setting the README and the manifest use.
var Recommended = Setting{32, LongSize}

// Run simulates one setting.
func (m Model) Run(vids []Video, pods int, s Setting) Result {
	rule := batch.Shard{}
	if s.LongSize > 0 {
		rule.LongShards, rule.LongSize = pods, s.LongSize
	}
	return m.IndexedJob(vids, pods, s.Multiple*pods, rule)
}

// Table simulates every setting for each pod count, over seeds archives
// (seeds Seed, Seed+1, ...), and returns the rows, the longest-first work
// queue last as the reference.
func (m Model) Table(pods []int, seeds int) []Row {
	var rows []Row
	for _, p := range pods {
		byName := map[string]*Row{}
		var order []string
		add := func(r Result) {
			row, ok := byName[r.Name]
			if !ok {
				row = &Row{Name: r.Name, Pods: p, Completions: r.Completions, Best: math.Inf(1)}
				byName[r.Name] = row
				order = append(order, r.Name)
			}
			row.Runs = append(row.Runs, r)
			row.Worst = max(row.Worst, r.Ratio())
			row.Best = min(row.Best, r.Ratio())
		}
		for s := 0; s < seeds; s++ {
			mm := m
			mm.Seed = m.Seed + uint64(s)
			vids := mm.Archive()
			for _, st := range Settings {
				add(mm.Run(vids, p, st))
			}
			add(mm.LongestFirst(vids, p))
		}
		for _, n := range order {
			rows = append(rows, *byName[n])
		}
	}
	return rows
}

// Row is one setting over several archives.
type Row struct {
	Name              string
	Pods, Completions int
	Runs              []Result
	Best, Worst       float64 // makespan / ideal
}

// Median is the median makespan / ideal over the runs.
func (r Row) Median() float64 {
	v := make([]float64, len(r.Runs))
	for i, x := range r.Runs {
		v[i] = x.Ratio()
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// Format prints rows as a Markdown table.
func Format(rows []Row) string {
	var b strings.Builder
	b.WriteString("| pods (parallelism) | completions | videos a shard | ideal (h) | makespan (h), median | makespan / ideal: median | best | worst |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		comp, per := "-", "-"
		if r.Completions > 0 {
			comp = fmt.Sprintf("%d (%s)", r.Completions, strings.TrimPrefix(r.Name, "completions = "))
			per = fmt.Sprintf("%.0f", float64(r.Runs[0].Videos)/float64(r.Completions))
		} else {
			comp = r.Name
		}
		var ideal, mk []float64
		for _, x := range r.Runs {
			ideal = append(ideal, x.Ideal)
			mk = append(mk, x.Makespan)
		}
		sort.Float64s(ideal)
		sort.Float64s(mk)
		fmt.Fprintf(&b, "| %d | %s | %s | %.1f | %.1f | %.3f | %.3f | %.3f |\n", r.Pods, comp, per,
			ideal[len(ideal)/2]/3600, mk[len(mk)/2]/3600, r.Median(), r.Best, r.Worst)
	}
	return b.String()
}
