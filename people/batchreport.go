package people

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/vidtag/vidtag/internal/tidy"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vidtag/vidtag/internal/outfile"
)

// BatchPerson is a person's timeline across a batch: the batch report's
// "people" entry.
type BatchPerson struct {
	Seconds float64        `json:"seconds"`
	Cluster int            `json:"cluster,omitempty"`
	Videos  []BatchAppears `json:"videos"`
}

// BatchAppears is a person in one video of a batch.
type BatchAppears struct {
	Input   string       `json:"input"`
	Seconds float64      `json:"seconds"`
	First   float64      `json:"first"`
	Last    float64      `json:"last"`
	Ranges  [][2]float64 `json:"ranges"`
}

// rewriteBatchReports puts the timelines into every batch report of dir
// (batch-report.json, or one per shard): each video's "people" (label ->
// seconds, clusters included) and a top-level "people" over the videos of
// that report.
func rewriteBatchReports(dir string, vids []*video, sum *Summary) error {
	reports, _ := filepath.Glob(filepath.Join(dir, "batch-report*.json"))
	sort.Strings(reports)
	byName := map[string]*video{}
	for _, v := range vids {
		byName[v.f.Name] = v
	}
	for _, path := range reports {
		if strings.HasPrefix(filepath.Base(path), ".") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		o, err := parseObject(b)
		if err != nil {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: %v; left alone", path, err))
			continue
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(o.get("videos"), &entries); err != nil {
			sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: no videos list; left alone", path))
			continue
		}
		total := map[string]*BatchPerson{}
		var out []object
		for _, e := range entries {
			eo, err := parseObject(e)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			var input string
			json.Unmarshal(eo.get("input"), &input)
			if v := byName[input]; v != nil && v.all != nil {
				secs := map[string]float64{}
				for n, p := range people(v.all) {
					secs[n] = p.Seconds
					bp := total[n]
					if bp == nil {
						bp = &BatchPerson{Cluster: p.Cluster}
						total[n] = bp
					}
					bp.Seconds = tidy.Round(bp.Seconds+p.Seconds, 2)
					bp.Videos = append(bp.Videos, BatchAppears{Input: input, Seconds: p.Seconds, First: p.First, Last: p.Last, Ranges: p.Ranges})
				}
				if err := eo.set("people", secs); err != nil {
					return err
				}
			}
			out = append(out, eo)
		}
		if out == nil {
			out = []object{}
		}
		if err := o.set("videos", out); err != nil {
			return err
		}
		if err := o.set("people", total); err != nil {
			return err
		}
		nb, err := outfile.JSON(o)
		if err != nil {
			return err
		}
		if !bytes.Equal(nb, b) {
			if err := writeIfChanged(path, nb, 0o644); err != nil {
				return err
			}
			sum.Written = append(sum.Written, path)
		}
	}
	return nil
}
