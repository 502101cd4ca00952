package batch

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
)

// Shard states in a Status.
const (
	ShardFinished   = "finished"    // its report is newer than its plan
	ShardRunning    = "running"     // a plan and no newer report (or an interrupted one): running, or stopped awaiting a retry
	ShardNotStarted = "not started" // no plan yet
)

// Status is how far a batch run has got, read from its output folder alone.
type Status struct {
	Shards     int            `json:"shards"` // 1 for an unsharded batch
	ShardState map[string]int `json:"shard_states"`
	Videos     int            `json:"videos"` // every video of every shard, started or not
	Done       int            `json:"done"`
	Failed     int            `json:"failed"`
	Left       int            `json:"left"`
	// FailedVideos lists the failures, with their reasons.
	FailedVideos []VideoResult `json:"failed_videos"`
	// Running lists the shards (I/N) in ShardRunning, for a look at their pods.
	Running []string `json:"running,omitempty"`
}

// ReadStatus tells done, failed and left for the newest batch run in out
// (sharded or not), from the plans each shard writes when it starts, the
// reports each writes when it ends, and the outputs in between:
//
//   - a video is done when its shard's report (from this run) says ok or
//     skipped or, while the shard runs, when its report file and (unless
//     sidecar-only) its MP4 are in place (the MP4 is put last);
//   - it failed when its shard's report says so (failures of a running
//     shard show when it ends);
//   - every other planned video is left, and so are those of shards not
//     started yet (their count is the input folder's total, which every
//     plan records, less the planned ones).
//
// It reads no input and takes no lock, so it runs beside the Job, on any
// machine that mounts the output volume.
func ReadStatus(out string) (*Status, error) {
	reports, plans, err := shardFiles(out)
	if err != nil {
		return nil, err
	}
	n, newest := 0, time.Time{}
	for c, files := range plans {
		for _, path := range files {
			if p, err := readJSONFile[Plan](path); err == nil && (n == 0 || p.Started.After(newest)) {
				n, newest = c, p.Started
			}
		}
	}
	if p, err := readJSONFile[Plan](PlanPath(out, Shard{})); err == nil && (n == 0 || p.Started.After(newest)) {
		n = 1
	}
	if n == 0 {
		if _, err := os.Stat(out); err != nil {
			return nil, fmt.Errorf("%s: %w", out, outfile.UnwrapPathError(err))
		}
		return nil, fmt.Errorf("%s: no batch has started here (no batch-plan*.json)", out)
	}
	st := &Status{Shards: n, ShardState: map[string]int{}, FailedVideos: []VideoResult{}}
	planned, all := 0, 0
	for i := 0; i < n; i++ {
		s := Shard{Index: i, Count: n}
		planPath, repPath := PlanPath(out, s), ReportPath(out, s)
		if n > 1 {
			planPath, repPath = plans[n][i], reports[n][i]
		}
		if planPath == "" {
			st.ShardState[ShardNotStarted]++
			continue
		}
		p, err := readJSONFile[Plan](planPath)
		if err != nil {
			return nil, err
		}
		all = max(all, p.AllVideos)
		planned += len(p.Videos)
		var rep *Report
		if repPath != "" {
			if r, err := readJSONFile[Report](repPath); err == nil && !r.Finished.Before(p.Started) {
				rep = r
			}
		}
		byInput := map[string]VideoResult{}
		if rep != nil && !rep.Interrupted {
			st.ShardState[ShardFinished]++
			for _, v := range rep.Videos {
				byInput[v.Input] = v
			}
			// Folders that could not be read are failures no plan lists.
			for _, v := range rep.Videos {
				if strings.HasSuffix(v.Input, "/") && v.Status == StatusFailed {
					st.Videos++
					st.Failed++
					st.FailedVideos = append(st.FailedVideos, v)
				}
			}
		} else {
			// No report, or an interrupted one (a pod stopped, awaiting
			// its retry): the outputs say what is done.
			st.ShardState[ShardRunning]++
			st.Running = append(st.Running, s.String())
			if rep != nil {
				for _, v := range rep.Videos {
					if v.Status == StatusFailed {
						byInput[v.Input] = v
					}
				}
			}
		}
		for _, v := range p.Videos {
			st.Videos++
			r, reported := byInput[v.Input]
			switch {
			case reported && r.Status == StatusFailed:
				st.Failed++
				st.FailedVideos = append(st.FailedVideos, r)
			case reported || outputsInPlace(out, v, p.SidecarOnly):
				st.Done++
			default:
				st.Left++
			}
		}
	}
	if rest := all - planned; rest > 0 && st.ShardState[ShardNotStarted] > 0 {
		st.Videos += rest
		st.Left += rest
	}
	sort.Slice(st.FailedVideos, func(a, b int) bool { return st.FailedVideos[a].Input < st.FailedVideos[b].Input })
	return st, nil
}

// outputsInPlace reports whether a video's outputs are all under their
// final names: the report, the sidecar, and the MP4 (put in place last).
func outputsInPlace(out string, v PlanVideo, sidecarOnly bool) bool {
	base := filepath.Join(out, filepath.FromSlash(v.Output))
	names := []string{base + ".report.json", base + ".jsonl"}
	if !sidecarOnly {
		names = append(names, base+".mp4")
	}
	for _, p := range names {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// Table prints the status for a person.
func (s *Status) Table() string {
	var b strings.Builder
	if s.Shards > 1 {
		fmt.Fprintf(&b, "%d shards: %d finished, %d running, %d not started\n", s.Shards,
			s.ShardState[ShardFinished], s.ShardState[ShardRunning], s.ShardState[ShardNotStarted])
	}
	pct := 0.0
	if s.Videos > 0 {
		pct = 100 * float64(s.Done+s.Failed) / float64(s.Videos)
	}
	fmt.Fprintf(&b, "%d videos: %d done, %d failed, %d left (%.0f%% through)", s.Videos, s.Done, s.Failed, s.Left, pct)
	const shown = 20 // --json lists them all
	for i, v := range s.FailedVideos {
		if i == shown {
			fmt.Fprintf(&b, "\n... and %d more failed (--json lists them all)", len(s.FailedVideos)-shown)
			break
		}
		fmt.Fprintf(&b, "\nfailed: %s: %s", v.Input, v.Error)
	}
	return b.String()
}
