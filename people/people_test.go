package people

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/stages"
)

// near returns a descriptor at distance about d from c, in a random
// direction drawn from r.
func near(r *rand.Rand, c gallery.Descriptor, d float64) gallery.Descriptor {
	var v [128]float64
	n := 0.0
	for i := range v {
		v[i] = r.NormFloat64()
		n += v[i] * v[i]
	}
	n = math.Sqrt(n)
	var out gallery.Descriptor
	for i := range out {
		out[i] = c[i] + float32(d*v[i]/n)
	}
	return out
}

func centre(r *rand.Rand) gallery.Descriptor { return near(r, gallery.Descriptor{}, 1) }

// partition is groups as sets of indices, independent of numbering.
func partition(g []int) map[string]bool {
	sets := map[int][]int{}
	for i, x := range g {
		sets[x] = append(sets[x], i)
	}
	out := map[string]bool{}
	for _, s := range sets {
		out[fmt.Sprint(s)] = true
	}
	return out
}

func TestCluster(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	a, b, c := centre(r), centre(r), centre(r)
	var descs []gallery.Descriptor
	var who []int
	for i := 0; i < 30; i++ {
		k := i % 3
		descs = append(descs, near(r, []gallery.Descriptor{a, b, c}[k], 0.2))
		who = append(who, k)
	}
	got := Cluster(descs, 0.6)
	if !reflect.DeepEqual(partition(got), partition(who)) {
		t.Errorf("three people, 0.2 around centres ~1.4 apart: got %v", got)
	}
	if got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Errorf("groups are numbered by their first member: %v", got[:3])
	}
	// Deterministic, and the grouping does not depend on the order.
	if again := Cluster(descs, 0.6); !reflect.DeepEqual(again, got) {
		t.Errorf("second run differs: %v vs %v", again, got)
	}
	perm := r.Perm(len(descs))
	shuffled := make([]gallery.Descriptor, len(descs))
	for i, p := range perm {
		shuffled[i] = descs[p]
	}
	sg := Cluster(shuffled, 0.6)
	back := make([]int, len(descs))
	for i, p := range perm {
		back[p] = sg[i]
	}
	if !reflect.DeepEqual(partition(back), partition(got)) {
		t.Errorf("shuffled input gives another grouping")
	}
	// The cut: a pair at distance d joins when d <= cut.
	x := centre(r)
	y := near(r, x, 0.5)
	d := gallery.Distance(x, y)
	for _, tc := range []struct {
		cut  float64
		want []int
	}{{d + 1e-6, []int{0, 0}}, {d - 1e-3, []int{0, 1}}} {
		if g := Cluster([]gallery.Descriptor{x, y}, tc.cut); !reflect.DeepEqual(g, tc.want) {
			t.Errorf("pair %.4f apart, cut %.4f: got %v, want %v", d, tc.cut, g, tc.want)
		}
	}
	// Average linkage, not single: a chain of steps under the cut whose
	// ends are far apart is not one group.
	var chain []gallery.Descriptor
	p := centre(r)
	for i := 0; i < 8; i++ {
		chain = append(chain, p)
		p = near(r, p, 0.35)
	}
	if g := Cluster(chain, 0.4); g[0] == g[7] {
		t.Errorf("a chain of 0.35 steps became one group at cut 0.4: %v", g)
	}
	if g := Cluster(nil, 0.6); len(g) != 0 {
		t.Errorf("nothing: %v", g)
	}
}

func TestTimelineAndVTT(t *testing.T) {
	tl := newTimeline(10)
	face := func(label string, known bool, cluster int) stages.Face {
		return stages.Face{Label: label, Known: known, Cluster: cluster, Box: image.Rect(0, 0, 9, 9)}
	}
	for i := 0; i < 40; i++ {
		f := &stages.Frame{Seq: i, PTS: time.Duration(i) * 100 * time.Millisecond}
		switch {
		case i < 10: // Ann 0-1 s, with a 0.3 s gap (bridged) then to 1.5 s
			if i < 7 || i >= 10 {
				f.Faces = append(f.Faces, face("Ann", true, 0))
			}
		case i < 15:
			f.Faces = append(f.Faces, face("Ann", true, 0), face("Unknown", false, 2))
		case i >= 30: // a stranger never described, and #2 again after a long gap
			f.Faces = append(f.Faces, face("Unknown", false, 0), face("Unknown", false, 2))
		}
		tl.add(f)
	}
	all := tl.finish()
	want := map[string]Person{
		"Ann":        {Frames: 12, Seconds: 1.2, First: 0, Last: 1.5, Ranges: [][2]float64{{0, 1.5}}},
		"Unknown #2": {Frames: 15, Seconds: 1.5, Cluster: 2, First: 1, Last: 4, Ranges: [][2]float64{{1, 1.5}, {3, 4}}},
		"Unknown":    {Frames: 10, Seconds: 1, First: 3, Last: 4, Ranges: [][2]float64{{3, 4}}},
	}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("timeline:\n%+v\nwant\n%+v", all, want)
	}
	if _, ok := people(all)["Unknown"]; ok {
		t.Errorf("strangers never described are not a person in the report")
	}
	vtt, cues := VTT(all)
	wantVTT := "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nAnn\n\n2\n00:00:01.000 --> 00:00:01.500\nAnn, Unknown #2\n\n3\n00:00:03.000 --> 00:00:04.000\nUnknown #2, Unknown\n"
	if string(vtt) != wantVTT || cues != 3 {
		t.Errorf("VTT (%d cues):\n%s\nwant\n%s", cues, vtt, wantVTT)
	}
	if v, n := VTT(map[string]Person{}); string(v) != "WEBVTT\n" || n != 0 {
		t.Errorf("nobody: %q %d", v, n)
	}
}

func TestCanonicalName(t *testing.T) {
	for in, want := range map[string]string{"3": "Unknown #3", "#3": "Unknown #3", "Unknown #3": "Unknown #3", " Ann ": "Ann", "Unknown": "Unknown", "0": "0"} {
		if got := CanonicalName(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// fakeFolder writes what two shards of a batch would leave for two videos
// (no MP4: sidecar only), with two strangers A and B: A in both videos,
// B in the second, and a known person and a stranger never described.
func fakeFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewSource(7))
	a, b := centre(r), centre(r)
	type tr struct {
		id       int
		label    string
		desc     *gallery.Descriptor
		from, to int
	}
	d := func(x gallery.Descriptor) *gallery.Descriptor { y := near(r, x, 0.15); return &y }
	videos := []struct {
		name   string
		tracks []tr
	}{
		{"x/one.mp4", []tr{{0, "Unknown", d(a), 0, 9}, {1, "Ann", nil, 5, 19}, {2, "Unknown", nil, 12, 19}}},
		{"two.mp4", []tr{{0, "Unknown", d(b), 0, 9}, {1, "Unknown", d(a), 10, 19}, {2, "Unknown", d(b), 15, 19}}},
	}
	for i, v := range videos {
		base := filepath.Join(dir, strings.TrimSuffix(v.name, ".mp4"))
		os.MkdirAll(filepath.Dir(base), 0o755)
		f := &File{Version: fileVersion, Input: "/in/" + v.name, Name: v.name, Sidecar: filepath.Base(base) + ".jsonl",
			Report: filepath.Base(base) + ".report.json", Stem: filepath.Base(base), Faces: filepath.Base(base) + ".faces", Cut: 0.6, Subtitles: true, FrameRate: 10, Frames: 20}
		var lines bytes.Buffer
		for n := 0; n < 20; n++ {
			fr := &stages.Frame{Seq: n, PTS: time.Duration(n) * 100 * time.Millisecond}
			for _, t := range v.tracks {
				if n >= t.from && n <= t.to {
					fr.Faces = append(fr.Faces, stages.Face{Box: image.Rect(t.id*50, 0, t.id*50+40, 40), Track: t.id, Label: t.label,
						Known: t.label != "Unknown", Distance: math.NaN(), Margin: math.NaN(), Crowd: math.NaN(), Score: 0.99})
				}
			}
			lines.Write(append(stages.AppendFrameJSON(nil, fr), '\n'))
		}
		os.WriteFile(base+".jsonl", lines.Bytes(), 0o644)
		os.WriteFile(base+".report.json", []byte("{\n  \"input\": \"/in/"+v.name+"\",\n  \"frames\": 20,\n  \"people\": {}\n}\n"), 0o644)
		for _, t := range v.tracks {
			tk := Track{ID: t.id, Label: t.label, Unknown: t.label == "Unknown", First: t.from, Last: t.to, Descriptor: t.desc}
			if t.desc != nil {
				tk.Descriptors = 3
			}
			f.Tracks = append(f.Tracks, tk)
		}
		if err := f.Write(PathFor(base)); err != nil {
			t.Fatal(err)
		}
		rep := fmt.Sprintf(`{"shard": "%d/2", "videos": [{"input": %q, "status": "ok", "frames": 20, "fps": 1, "people": {}}], "totals": {"videos": 1}}`, i, v.name)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("batch-report.shard-%d-of-2.json", i)), []byte(rep), 0o644)
	}
	return dir
}

func TestUnifyFolder(t *testing.T) {
	dir := fakeFolder(t)
	ctx := context.Background()
	sum, err := Unify(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Videos != 2 || sum.Strangers != 4 || sum.Clusters != 2 || len(sum.Warnings) != 0 {
		t.Fatalf("summary %+v", sum)
	}
	// Videos in path order: B is #1 (first seen in two), A is #2, the
	// same in both videos.
	want := map[string]map[int]int{"x/one.jsonl": {0: 2, 1: 0, 2: 0}, "two.jsonl": {0: 1, 1: 2, 2: 1}}
	for name, tracks := range want {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			fr, err := stages.ParseFrameJSON(l)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fr.Faces {
				if f.Cluster != tracks[f.Track] {
					t.Fatalf("%s frame %d track %d: cluster %d, want %d", name, fr.Seq, f.Track, f.Cluster, tracks[f.Track])
				}
			}
		}
		if !bytes.Contains(b, []byte(`"known": false, "cluster": null`)) && name == "x/one.jsonl" {
			t.Errorf("a stranger never described has cluster null")
		}
	}
	var rep struct {
		People map[string]Person `json:"people"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "two.report.json"))
	json.Unmarshal(b, &rep)
	if p := rep.People["Unknown #1"]; p.Cluster != 1 || p.Frames != 15 || !reflect.DeepEqual(p.Ranges, [][2]float64{{0, 1}, {1.5, 2}}) {
		t.Errorf("two's report: %+v", rep.People)
	}
	if vtt, _ := os.ReadFile(filepath.Join(dir, "x", "one.vtt")); !strings.Contains(string(vtt), "00:00:00.500 --> 00:00:01.000\nAnn, Unknown #2\n") {
		t.Errorf("one.vtt:\n%s", vtt)
	}
	var shard struct {
		Videos []struct {
			Input  string             `json:"input"`
			People map[string]float64 `json:"people"`
		} `json:"videos"`
		People map[string]BatchPerson `json:"people"`
		Totals map[string]int         `json:"totals"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "batch-report.shard-1-of-2.json"))
	json.Unmarshal(b, &shard)
	if shard.Videos[0].People["Unknown #1"] != 1.5 || shard.People["Unknown #2"].Seconds != 1 || shard.Totals["videos"] != 1 {
		t.Errorf("shard report not rewritten right:\n%s", b)
	}
	for _, p := range []string{"index.html", "x/one.html", "two.html"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "two.people.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("people file is %v, want 0600", st.Mode().Perm())
	}
	// Running it again is a no-op: nothing written, every byte the same.
	before := snapshot(t, dir)
	sum, err = Unify(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Written) != 0 {
		t.Errorf("second Unify wrote %v", sum.Written)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Errorf("second Unify changed files")
	}
	// find and enroll read the result.
	found, _, err := Find(dir, "#2")
	if err != nil || len(found.Videos) != 2 || found.Seconds != 2 {
		t.Errorf("find #2: %+v %v", found, err)
	}
	if _, _, err := Find(filepath.Join(dir, "nothing"), "Ann"); err == nil {
		t.Errorf("find in a missing folder: no error")
	}
	known := t.TempDir()
	if _, err := Enroll(dir, 1, "Zed", known, 5); err == nil || !strings.Contains(err.Error(), "no cluster 1 with a face crop") {
		t.Errorf("enroll without crops: %v", err)
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = fmt.Sprintf("%x %v %v", b, info.Mode(), info.ModTime())
		}
		return nil
	})
	return m
}

func TestSiblingKeepsNamesUnder255Bytes(t *testing.T) {
	long := "/o/" + strings.Repeat("é", 124) + "x" // 249 bytes
	for _, ext := range []string{".vtt", FileSuffix, ".faces"} {
		got := Sibling(long, ext)
		name := filepath.Base(got)
		if len(name) > 255 || !strings.HasSuffix(got, ext) || !utf8.ValidString(name) {
			t.Errorf("%s: %q (%d bytes)", ext, name, len(name))
		}
		if Sibling(long, ext) != got {
			t.Errorf("not stable")
		}
	}
	if got := Sibling("/o/x", ".vtt"); got != "/o/x.vtt" {
		t.Errorf("short name changed: %s", got)
	}
}
