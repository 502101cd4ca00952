package batch

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/annotate"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

// TestBatchStrangersRevokeNames: a stranger in one video of the batch who
// looks like a known person (here: a stranger's track planted with
// Miranda's mean descriptor) takes Miranda's name away in another video,
// which is tagged again with the batch's strangers in its crowd. A further
// run over the complete folder redoes nothing, and the check does not
// depend on --jobs.
func TestBatchStrangersRevokeNames(t *testing.T) {
	opt := twoHamiltonClips(t, "cohort-test")
	opt.Jobs, opt.Shard = 2, Shard{Index: 0, Count: 1}
	out := opt.Out
	run := func() *Report {
		t.Helper()
		rep, err := Run(context.Background(), opt)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	names := func(rel string) map[string]int { return sidecarLabels(t, filepath.Join(out, rel+".jsonl")) }

	rep := run()
	if rep.Totals.OK != 2 || names("a")["Lin-Manuel Miranda"] == 0 {
		t.Fatalf("first pass: %+v, a's labels %v", rep.Totals, names("a"))
	}
	for _, v := range rep.Videos {
		if v.Rechecked {
			t.Fatalf("%s rechecked with nobody to un-name it", v.Input)
		}
	}
	info, err := os.Stat(filepath.Join(out, "a.tracks.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("track file: %v, mode %v (descriptors: want 0600)", err, info.Mode().Perm())
	}

	// Plant a look-alike stranger in b: a track of b that is Unknown, with
	// the mean descriptor of a's Miranda track.
	plantLookAlike(t, out)

	opt.Jobs = 1
	rep = run()
	got := map[string]VideoResult{}
	for _, v := range rep.Videos {
		got[v.Input] = v
	}
	if !got["a.mp4"].Rechecked || got["a.mp4"].Status != StatusOK || got["b.mp4"].Status != StatusSkipped {
		t.Fatalf("second run: %+v", rep.Videos)
	}
	if n := names("a")["Lin-Manuel Miranda"]; n != 0 {
		t.Errorf("a still names Miranda on %d faces after the batch's look-alike stranger", n)
	}
	if r := readReport(t, filepath.Join(out, "a.report.json")); r.Cohort == "" {
		t.Error("a's report does not record the cohort it was checked with")
	}

	rep = run()
	for _, v := range rep.Videos {
		if v.Status != StatusSkipped || v.Rechecked {
			t.Errorf("third run over a complete folder redid %s: %+v", v.Input, v)
		}
	}
}

// twoHamiltonClips makes a batch input of two 90-frame cuts of the
// Hamilton clip (a.mp4, b.mp4: Miranda in both) and sidecar-only batch
// options over it, with the shared known faces.
func twoHamiltonClips(t *testing.T, digest string) Options {
	t.Helper()
	in, out := t.TempDir(), t.TempDir()
	for _, name := range []string{"a.mp4", "b.mp4"} {
		testenv.ShortClip(t, filepath.Join(in, name), 90, false)
	}
	pool := testengine.Pool(t, 2)
	g := testengine.Known(t, pool)
	tag := settings.Defaults().Annotate()
	tag.Settings = digest
	return Options{In: in, Out: out, Jobs: 1, SidecarOnly: true, Tag: tag,
		Env: func() (*engine.Env, error) { return &engine.Env{Engines: pool, Gallery: g}, nil }}
}

// plantLookAlike adds to b's track file a stranger's track (unnamed by its
// own video) with the mean descriptor of a's Miranda track.
func plantLookAlike(t *testing.T, out string) {
	t.Helper()
	a, err := annotate.ReadTrackFile(filepath.Join(out, "a.tracks.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := annotate.ReadTrackFile(filepath.Join(out, "b.tracks.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range a.Tracks {
		if tr.Label == "Lin-Manuel Miranda" {
			b.Tracks = append(b.Tracks, annotate.TrackRecord{Track: 999, Label: gallery.Unknown, Observations: 3, Mean: tr.Mean})
			break
		}
	}
	raw, _ := json.Marshal(b)
	if err := os.WriteFile(filepath.Join(out, "b.tracks.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sidecarLabels counts the labels of a sidecar's faces.
func sidecarLabels(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Faces []struct{ Label string } `json:"faces"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(sc.Text())), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, face := range line.Faces {
			out[face.Label]++
		}
	}
	return out
}

func readReport(t *testing.T, path string) annotate.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r annotate.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRecheckAllAcrossShards: shards check names only against their own
// videos' strangers; RecheckAll (vidtag merge --input) applies the whole
// folder's, once: a look-alike stranger planted in one shard's video takes
// Miranda's name away in the other's, and a second pass changes nothing.
func TestRecheckAllAcrossShards(t *testing.T) {
	opt := twoHamiltonClips(t, "recheck-all-test")
	out := opt.Out
	for i := 0; i < 2; i++ {
		o := opt
		o.Shard = Shard{Index: i, Count: 2}
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	plantLookAlike(t, out)
	opt.Shard = Shard{Index: 0, Count: 1}
	redone, err := RecheckAll(context.Background(), opt)
	if err != nil || len(redone) != 1 || redone[0] != "a.mp4" {
		t.Fatalf("RecheckAll: %v, %v; want a.mp4 tagged again", redone, err)
	}
	if n := sidecarLabels(t, filepath.Join(out, "a.jsonl"))["Lin-Manuel Miranda"]; n != 0 {
		t.Errorf("a still names Miranda on %d faces", n)
	}
	if redone, err := RecheckAll(context.Background(), opt); err != nil || len(redone) != 0 {
		t.Errorf("second RecheckAll: %v, %v; want nothing to do", redone, err)
	}
}
