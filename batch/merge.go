package batch

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/tidy"
)

// MergeResult says what Merge folded.
type MergeResult struct {
	Report  *Report
	Path    string   // the merged report: OUT/batch-report.json
	Written bool     // false when the file already held exactly this
	Ignored []string // shard reports of another shard count, or older than their shard's plan
}

// Merge folds every shard report in out (batch-report.shard-I-of-N.json)
// into one batch-report.json: every video once, sorted by input, totals
// summed, the wall time from the first shard's start to the last one's end.
// The result depends only on the shard reports, so merging again gives the
// same bytes (and then the file is not rewritten at all).
//
// Only the reports of one shard count are folded: of the newest run when
// an earlier run with another N left its reports too. A shard whose plan
// is newer than its report (running, or stopped before writing one) counts
// as missing, as does one with no report. Merge takes the lock of
// batch-report.json, so it never races a merge or an unsharded batch.
func Merge(out string) (*MergeResult, error) {
	reports, plans, err := shardFiles(out)
	if err != nil {
		return nil, err
	}
	if len(reports) == 0 {
		return nil, fmt.Errorf("%s: no shard reports (batch-report.shard-I-of-N.json) to merge", out)
	}
	res := &MergeResult{Path: ReportPath(out, Shard{})}
	type shardRep struct {
		i   int
		rep *Report
	}
	// The shard count of the newest run: the one whose newest report
	// finished last.
	var (
		bestN    int
		bestTime time.Time
		byN      = map[int][]shardRep{}
	)
	for n, files := range reports {
		for i, path := range files {
			r, err := readJSONFile[Report](path)
			if err != nil {
				return nil, err
			}
			if pp, ok := plans[n][i]; ok {
				if p, err := readJSONFile[Plan](pp); err == nil && p.Started.After(r.Finished) {
					res.Ignored = append(res.Ignored, filepath.Base(path)+" (older than its shard's plan: that shard is running or stopped)")
					continue
				}
			}
			byN[n] = append(byN[n], shardRep{i, r})
			if bestN == 0 || r.Finished.After(bestTime) || (r.Finished.Equal(bestTime) && n > bestN) {
				bestN, bestTime = n, r.Finished
			}
		}
	}
	for n, files := range reports {
		if n != bestN {
			for _, path := range files {
				res.Ignored = append(res.Ignored, filepath.Base(path)+fmt.Sprintf(" (a run of %d shards, not the newest of %d)", n, bestN))
			}
		}
	}
	sort.Strings(res.Ignored)
	if bestN == 0 {
		return res, fmt.Errorf("%s: no finished shard report to merge", out)
	}
	shards := byN[bestN]
	sort.Slice(shards, func(a, b int) bool { return shards[a].i < shards[b].i })

	m := &Report{Shards: bestN, Videos: []VideoResult{}}
	have := map[int]bool{}
	for _, s := range shards {
		r := s.rep
		have[s.i] = true
		m.Interrupted = m.Interrupted || r.Interrupted
		if !r.Started.IsZero() && (m.Started.IsZero() || r.Started.Before(m.Started)) {
			m.Started = r.Started
		}
		if r.Finished.After(m.Finished) {
			m.Finished = r.Finished
		}
		m.Videos = append(m.Videos, r.Videos...)
		t := r.Totals
		m.Totals.Videos += t.Videos
		m.Totals.OK += t.OK
		m.Totals.Failed += t.Failed
		m.Totals.Skipped += t.Skipped
		m.Totals.Frames += t.Frames
	}
	for i := 0; i < bestN; i++ {
		if !have[i] {
			m.MissingShards = append(m.MissingShards, i)
		}
	}
	sort.SliceStable(m.Videos, func(a, b int) bool { return m.Videos[a].Input < m.Videos[b].Input })
	if !m.Started.IsZero() && m.Finished.After(m.Started) {
		m.Totals.WallSeconds = tidy.Round(m.Finished.Sub(m.Started).Seconds(), 3)
		m.Totals.FPS = tidy.Round(float64(m.Totals.Frames)/m.Totals.WallSeconds, 2)
	}
	res.Report = m

	lock, err := outfile.Acquire(res.Path)
	if err != nil {
		return res, err
	}
	defer lock.Release()
	// The people's timelines are people.Unify's (vidtag merge runs it
	// next): kept as they are, so that merging an unchanged folder again
	// leaves the file alone.
	if old, err := readJSONFile[Report](res.Path); err == nil {
		m.People = old.People
	}
	b, err := outfile.JSON(m)
	if err != nil {
		return res, err
	}
	if old, err := os.ReadFile(res.Path); err == nil && bytes.Equal(old, b) {
		return res, nil
	}
	if err := outfile.WriteFile(res.Path, b, 0o644); err != nil {
		return res, fmt.Errorf("%s: %w", res.Path, outfile.UnwrapPathError(err))
	}
	res.Written = true
	return res, nil
}
