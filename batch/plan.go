package batch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/vidtag/vidtag/internal/outfile"
)

// Plan is what one batch (or shard) set out to do, written to the output
// folder when it starts (batch-plan.json, or batch-plan.shard-I-of-N.json)
// so that vidtag status can tell done from left while the run goes on,
// reading the output folder alone: the input folder may not even be
// mounted where status runs.
type Plan struct {
	Shard       string    `json:"shard,omitempty"`
	Started     time.Time `json:"started"`
	SidecarOnly bool      `json:"sidecar_only,omitempty"`
	// AllVideos counts the candidates the whole input folder holds (every
	// shard's), so the videos of shards not started yet are known too.
	AllVideos int         `json:"all_videos"`
	Videos    []PlanVideo `json:"videos"`
}

// PlanVideo is one video of a plan.
type PlanVideo struct {
	Input  string `json:"input"`  // relative to the input folder
	Output string `json:"output"` // OutBase relative to the output folder, with forward slashes
}

// PlanPath is where a batch (or shard) writes its plan.
func PlanPath(out string, s Shard) string {
	if s.Count > 1 {
		return filepath.Join(out, fmt.Sprintf("batch-plan.shard-%d-of-%d.json", s.Index, s.Count))
	}
	return filepath.Join(out, "batch-plan.json")
}

func writePlan(opt Options, start time.Time, all int, vids []Video) error {
	p := Plan{Started: start.UTC().Round(time.Millisecond), SidecarOnly: opt.SidecarOnly, AllVideos: all, Videos: []PlanVideo{}}
	if opt.Shard.Count > 1 {
		p.Shard = opt.Shard.String()
	}
	for _, v := range vids {
		rel, err := filepath.Rel(opt.Out, v.OutBase)
		if err != nil {
			return err
		}
		p.Videos = append(p.Videos, PlanVideo{Input: v.Rel, Output: filepath.ToSlash(rel)})
	}
	return outfile.WriteJSON(PlanPath(opt.Out, opt.Shard), p, 0o644)
}

// shardFile matches the per-shard files in an output folder.
var shardFile = regexp.MustCompile(`^batch-(report|plan)\.shard-(\d+)-of-(\d+)\.json$`)

// shardFiles lists the shard reports and plans in out, by shard count N
// and index.
func shardFiles(out string) (reports, plans map[int]map[int]string, err error) {
	ents, err := os.ReadDir(out)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", out, outfile.UnwrapPathError(err))
	}
	reports, plans = map[int]map[int]string{}, map[int]map[int]string{}
	for _, e := range ents {
		m := shardFile.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		i, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		if n < 2 || i >= n {
			continue
		}
		dst := reports
		if m[1] == "plan" {
			dst = plans
		}
		if dst[n] == nil {
			dst[n] = map[int]string{}
		}
		dst[n][i] = filepath.Join(out, e.Name())
	}
	return reports, plans, nil
}

func readJSONFile[T any](path string) (*T, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, outfile.UnwrapPathError(err))
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%s: not a vidtag file: %v", path, err)
	}
	return &v, nil
}
