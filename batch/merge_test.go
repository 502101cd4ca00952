package batch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeTestJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// shardReport is a finished shard's report over videos (input -> status).
func shardReport(i, n int, start, end time.Duration, vids map[string]string) *Report {
	r := &Report{Shard: Shard{Index: i, Count: n}.String(), Started: t0.Add(start), Finished: t0.Add(end), Videos: []VideoResult{}}
	for in, st := range vids {
		v := VideoResult{Input: in, Status: st, Frames: 100, FPS: 10, People: map[string]float64{"Barack Obama": 2}}
		if st == StatusFailed {
			v.Frames, v.Error, v.People = 0, "not a video", map[string]float64{}
		}
		r.Videos = append(r.Videos, v)
		r.Totals.Videos++
		switch st {
		case StatusOK:
			r.Totals.OK++
			r.Totals.Frames += v.Frames
		case StatusSkipped:
			r.Totals.Skipped++
		case StatusFailed:
			r.Totals.Failed++
		}
	}
	return r
}

func TestMergeFoldsShardsOnceAndIdempotently(t *testing.T) {
	out := t.TempDir()
	writeTestJSON(t, ReportPath(out, Shard{Index: 0, Count: 3}), shardReport(0, 3, 0, 50*time.Second, map[string]string{"b.mp4": "ok", "a.mp4": "skipped"}))
	writeTestJSON(t, ReportPath(out, Shard{Index: 1, Count: 3}), shardReport(1, 3, 10*time.Second, 90*time.Second, map[string]string{"c.mp4": "ok", "bad.mp4": "failed"}))
	writeTestJSON(t, ReportPath(out, Shard{Index: 2, Count: 3}), shardReport(2, 3, 20*time.Second, 40*time.Second, map[string]string{}))
	// An older run with another shard count: ignored.
	writeTestJSON(t, ReportPath(out, Shard{Index: 0, Count: 2}), shardReport(0, 2, -time.Hour, -50*time.Minute, map[string]string{"a.mp4": "ok"}))

	res, err := Merge(out)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Report
	var inputs []string
	for _, v := range r.Videos {
		inputs = append(inputs, v.Input)
	}
	if got := strings.Join(inputs, " "); got != "a.mp4 b.mp4 bad.mp4 c.mp4" {
		t.Errorf("videos %q, want each once, sorted", got)
	}
	want := Totals{Videos: 4, OK: 2, Failed: 1, Skipped: 1, Frames: 200, WallSeconds: 90, FPS: 2.22}
	if r.Totals != want || r.Shards != 3 || len(r.MissingShards) != 0 || !res.Written {
		t.Errorf("totals %+v shards %d missing %v written %v; want %+v", r.Totals, r.Shards, r.MissingShards, res.Written, want)
	}
	if len(res.Ignored) != 1 || !strings.Contains(res.Ignored[0], "batch-report.shard-0-of-2.json") {
		t.Errorf("ignored %v, want the 2-shard run's report", res.Ignored)
	}
	first, _ := os.ReadFile(res.Path)
	st1, _ := os.Stat(res.Path)

	// Again: the same bytes, and the file is left alone.
	res, err = Merge(out)
	if err != nil || res.Written {
		t.Fatalf("second merge: written %v, %v", res.Written, err)
	}
	again, _ := os.ReadFile(res.Path)
	st2, _ := os.Stat(res.Path)
	if string(first) != string(again) || !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("a second merge changed batch-report.json")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(out, ".*")); len(leftovers) != 0 {
		t.Errorf("merge left %v", leftovers)
	}
}

func TestMergeMissingAndRunningShards(t *testing.T) {
	out := t.TempDir()
	writeTestJSON(t, ReportPath(out, Shard{Index: 0, Count: 4}), shardReport(0, 4, 0, time.Minute, map[string]string{"a.mp4": "ok"}))
	// Shard 1 was retried: its new plan is newer than the old report.
	writeTestJSON(t, ReportPath(out, Shard{Index: 1, Count: 4}), shardReport(1, 4, 0, time.Minute, map[string]string{"b.mp4": "failed"}))
	writeTestJSON(t, PlanPath(out, Shard{Index: 1, Count: 4}), Plan{Shard: "1/4", Started: t0.Add(2 * time.Minute)})
	res, err := Merge(out)
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Report.MissingShards; len(m) != 3 || m[0] != 1 || m[2] != 3 {
		t.Errorf("missing %v, want [1 2 3]", m)
	}
	if res.Report.Totals.Videos != 1 {
		t.Errorf("totals %+v: shard 1's stale report was folded", res.Report.Totals)
	}

	if _, err := Merge(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no shard reports") {
		t.Errorf("merge of an empty folder: %v", err)
	}
}

func TestStatusFromTheOutputFolderAlone(t *testing.T) {
	out := t.TempDir()
	n := 4
	// Shard 0 finished: 2 ok, 1 failed.
	writeTestJSON(t, PlanPath(out, Shard{Index: 0, Count: n}), Plan{Shard: "0/4", Started: t0, AllVideos: 10,
		Videos: []PlanVideo{{"a.mp4", "a"}, {"b.mp4", "b"}, {"bad.mp4", "bad"}}})
	writeTestJSON(t, ReportPath(out, Shard{Index: 0, Count: n}), shardReport(0, n, 0, time.Minute, map[string]string{"a.mp4": "ok", "b.mp4": "skipped", "bad.mp4": "failed"}))
	// Shard 1 running: one video's outputs in place, one with only a
	// sidecar (in progress), one not begun.
	writeTestJSON(t, PlanPath(out, Shard{Index: 1, Count: n}), Plan{Shard: "1/4", Started: t0.Add(time.Minute), AllVideos: 10,
		Videos: []PlanVideo{{"x/c.mp4", "x/c"}, {"x/d.mp4", "x/d"}, {"x/e.mp4", "x/e"}}})
	os.MkdirAll(filepath.Join(out, "x"), 0o755)
	for _, f := range []string{"x/c.report.json", "x/c.jsonl", "x/c.mp4", "x/d.jsonl"} {
		os.WriteFile(filepath.Join(out, f), []byte("{}\n"), 0o644)
	}
	// An old report of shard 1 from before its plan: not this run's.
	writeTestJSON(t, ReportPath(out, Shard{Index: 1, Count: n}), shardReport(1, n, -time.Hour, -time.Hour+time.Minute, map[string]string{"x/d.mp4": "ok"}))
	// Shards 2 and 3 not started: 10 - 6 videos left.

	st, err := ReadStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Shards != 4 || st.Videos != 10 || st.Done != 3 || st.Failed != 1 || st.Left != 6 {
		t.Errorf("status %+v, want 4 shards, 10 videos: 3 done, 1 failed, 6 left", st)
	}
	if st.ShardState[ShardFinished] != 1 || st.ShardState[ShardRunning] != 1 || st.ShardState[ShardNotStarted] != 2 || len(st.Running) != 1 || st.Running[0] != "1/4" {
		t.Errorf("shard states %v, running %v", st.ShardState, st.Running)
	}
	if len(st.FailedVideos) != 1 || st.FailedVideos[0].Input != "bad.mp4" {
		t.Errorf("failed %v", st.FailedVideos)
	}
	if tab := st.Table(); !strings.Contains(tab, "10 videos: 3 done, 1 failed, 6 left") || !strings.Contains(tab, "4 shards: 1 finished, 1 running, 2 not started") {
		t.Errorf("table:\n%s", tab)
	}
	if _, err := ReadStatus(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no batch has started") {
		t.Errorf("status of an empty folder: %v", err)
	}
}

// TestStatusInterruptedShard: a pod stopped by SIGTERM wrote a report marked
// interrupted; its shard counts as running (awaiting the retry), its
// finished videos as done, its failures as failed, the rest as left.
func TestStatusInterruptedShard(t *testing.T) {
	out := t.TempDir()
	writeTestJSON(t, PlanPath(out, Shard{Index: 0, Count: 2}), Plan{Shard: "0/2", Started: t0, AllVideos: 3,
		Videos: []PlanVideo{{"a.mp4", "a"}, {"b.mp4", "b"}, {"c.mp4", "c"}}})
	r := shardReport(0, 2, 0, time.Minute, map[string]string{"a.mp4": "ok", "b.mp4": "failed"})
	r.Interrupted = true
	writeTestJSON(t, ReportPath(out, Shard{Index: 0, Count: 2}), r)
	for _, f := range []string{"a.report.json", "a.jsonl", "a.mp4"} {
		os.WriteFile(filepath.Join(out, f), []byte("{}\n"), 0o644)
	}
	st, err := ReadStatus(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Done != 1 || st.Failed != 1 || st.Left != 1 || st.ShardState[ShardRunning] != 1 || st.ShardState[ShardNotStarted] != 1 {
		t.Errorf("status %+v", st)
	}
}
