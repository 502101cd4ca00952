package people

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/stages"
)

// Summary is what Unify did.
type Summary struct {
	Videos    int      // people files read
	Strangers int      // stranger tracks clustered
	Clusters  int      // groups they formed
	Cut       float64  // the distance cut used
	Written   []string // files rewritten (unchanged ones are not)
	Warnings  []string // videos left out, and why
}

// video is one people file and what Unify learns about it.
type video struct {
	path string // the people file
	rel  string // its output stem, relative to the folder unified (for index.html)
	f    *File
	all  map[string]Person // after clustering, "Unknown" included
}

func (v *video) dir() string        { return filepath.Dir(v.path) }
func (v *video) at(p string) string { return filepath.Join(v.dir(), p) }
func (v *video) base() string {
	if v.f.Stem == "" {
		return strings.TrimSuffix(v.path, FileSuffix)
	}
	return v.at(v.f.Stem)
}
func (v *video) vttPath() string  { return Sibling(v.base(), ".vtt") }
func (v *video) htmlPath() string { return Sibling(v.base(), ".html") }
func (v *video) name() string     { return strings.TrimSuffix(v.rel, FileSuffix) }

// Unify clusters the strangers of every video in the output folder dir
// (every NAME.people.json under it: one batch, or several shards written
// by several processes) together and rewrites each video's sidecar,
// report, VTT, HTML page and MP4 subtitle stream, the batch reports
// (batch-report.json or batch-report.shard-I-of-N.json) and dir/index.html.
// Only files whose bytes change are written, each atomically: running it
// again is a no-op. A video whose files cannot be read is left out with a
// warning.
func Unify(ctx context.Context, dir string) (*Summary, error) {
	// One Unify per folder at a time (a batch's end and a merge, say).
	lock, err := outfile.Acquire(filepath.Join(dir, "index.html"))
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	paths := peopleFiles(dir)
	sum, vids, err := unify(ctx, dir, paths)
	if err != nil {
		return sum, err
	}
	if err := rewriteBatchReports(dir, vids, sum); err != nil {
		return sum, err
	}
	if err := writeIndex(dir, vids, sum); err != nil {
		return sum, err
	}
	return sum, nil
}

// UnifyFiles is Unify for the given people files only (annotate's one
// video): no batch report, no index.html.
func UnifyFiles(ctx context.Context, paths ...string) (*Summary, error) {
	sum, _, err := unify(ctx, "", paths)
	return sum, err
}

func unify(ctx context.Context, dir string, paths []string) (*Summary, []*video, error) {
	sort.Strings(paths)
	sum := &Summary{Cut: math.Inf(1)}
	var vids []*video
	for _, p := range paths {
		f, err := ReadFile(p)
		if err != nil {
			sum.Warnings = append(sum.Warnings, err.Error())
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), f.Sidecar)); err != nil {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: its sidecar %s is missing; left out", p, f.Sidecar))
			continue
		}
		r := p
		if dir != "" {
			if x, err := filepath.Rel(dir, p); err == nil {
				r = x
			}
		}
		vids = append(vids, &video{path: p, rel: filepath.ToSlash(r), f: f})
		sum.Cut = math.Min(sum.Cut, f.Cut)
	}
	sum.Videos = len(vids)
	if len(vids) == 0 {
		sum.Cut = 0
		return sum, vids, nil
	}
	assign(vids, sum)
	for _, v := range vids {
		if err := ctx.Err(); err != nil {
			return sum, vids, err
		}
		if err := rewriteVideo(ctx, v, sum); err != nil {
			return sum, vids, err
		}
	}
	return sum, vids, nil
}

// assign clusters every described stranger track of vids together and
// numbers the groups from 1 in the order they first appear (videos in
// path order, then frame, then track).
func assign(vids []*video, sum *Summary) {
	type item struct{ v, t int }
	var items []item
	var descs []gallery.Descriptor
	for vi, v := range vids {
		for ti := range v.f.Tracks {
			t := &v.f.Tracks[ti]
			t.Cluster = 0
			if t.Unknown && t.Descriptors > 0 && t.Descriptor != nil {
				items = append(items, item{vi, ti})
				descs = append(descs, *t.Descriptor)
			}
		}
	}
	groups := Cluster(descs, sum.Cut)
	// First appearance of each group.
	type pos struct{ v, frame, track int }
	first := map[int]pos{}
	for i, it := range items {
		t := vids[it.v].f.Tracks[it.t]
		p := pos{it.v, t.First, t.ID}
		if q, ok := first[groups[i]]; !ok || p.v < q.v || p.v == q.v && (p.frame < q.frame || p.frame == q.frame && p.track < q.track) {
			first[groups[i]] = p
		}
	}
	order := make([]int, 0, len(first))
	for g := range first {
		order = append(order, g)
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := first[order[i]], first[order[j]]
		if a.v != b.v {
			return a.v < b.v
		}
		if a.frame != b.frame {
			return a.frame < b.frame
		}
		return a.track < b.track
	})
	number := map[int]int{}
	for i, g := range order {
		number[g] = i + 1
	}
	for i, it := range items {
		vids[it.v].f.Tracks[it.t].Cluster = number[groups[i]]
	}
	sum.Strangers, sum.Clusters = len(items), len(order)
}

// rewriteVideo writes one video's files from its clusters.
func rewriteVideo(ctx context.Context, v *video, sum *Summary) error {
	cluster := map[int]int{}
	for _, t := range v.f.Tracks {
		cluster[t.ID] = t.Cluster
	}
	sidecar := v.at(v.f.Sidecar)
	in, err := os.Open(sidecar)
	if err != nil {
		return err
	}
	defer in.Close()
	tl := newTimeline(v.f.FrameRate)
	var out bytes.Buffer
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	clusterOf := func(track int, known bool) int {
		if known {
			return 0
		}
		return cluster[track]
	}
	for sc.Scan() {
		// Only the clusters change: every other byte of the line stays
		// (fields of other versions included).
		line, err := stages.SetClusters(sc.Bytes(), clusterOf)
		if err != nil {
			return fmt.Errorf("%s: %w", sidecar, err)
		}
		fr, err := stages.ParseFrameJSON(line)
		if err != nil {
			return fmt.Errorf("%s: %w", sidecar, err)
		}
		tl.add(fr)
		out.Write(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", sidecar, err)
	}
	in.Close()
	v.all = tl.finish()
	write := func(path string, b []byte, perm os.FileMode) error {
		before, _ := os.ReadFile(path)
		if err := writeIfChanged(path, b, perm); err != nil {
			return err
		}
		if !bytes.Equal(before, b) {
			sum.Written = append(sum.Written, path)
		}
		return nil
	}
	if err := write(sidecar, out.Bytes(), 0o644); err != nil {
		return err
	}
	if v.f.Report != "" {
		path := v.at(v.f.Report)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		o, err := parseObject(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := o.set("people", people(v.all)); err != nil {
			return err
		}
		nb, err := outfile.JSON(o)
		if err != nil {
			return err
		}
		if err := write(path, nb, 0o644); err != nil {
			return err
		}
	}
	vtt, cues := VTT(v.all)
	if v.f.Subtitles {
		if err := write(v.vttPath(), vtt, 0o644); err != nil {
			return err
		}
	} else if _, err := os.Stat(v.vttPath()); err == nil {
		os.Remove(v.vttPath()) // turned off since: an old one would mislead
	}
	page, err := videoPage(v)
	if err != nil {
		return err
	}
	if err := write(v.htmlPath(), page, 0o644); err != nil {
		return err
	}
	if err := write(v.path, v.f.encode(), 0o600); err != nil {
		return err
	}
	if v.f.Video != "" {
		if _, err := os.Stat(v.at(v.f.Video)); err != nil {
			// A run killed between its report and its video: batch redoes
			// the video, and the next Unify gives it its subtitles.
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: no video to give subtitles to (%v)", v.path, err))
			return nil
		}
		want := []byte(nil)
		if v.f.Subtitles && cues > 0 {
			want = vtt
		}
		changed, err := muxSubtitles(ctx, v.at(v.f.Video), want)
		if err != nil {
			return err
		}
		if changed {
			sum.Written = append(sum.Written, v.at(v.f.Video))
		}
	}
	return nil
}
