package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/people"
	"github.com/vidtag/vidtag/stages"
	"github.com/vidtag/vidtag/track"
)

// knownWithout copies the shared known faces, leaving out the people named.
func knownWithout(t *testing.T, leave ...string) string {
	t.Helper()
	dir := t.TempDir()
	src := testenv.Data(t, "known")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		skip := false
		for _, l := range leave {
			skip = skip || l == name
		}
		if skip || e.IsDir() {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	return dir
}

// gtFrames reads a clip's ground truth: frame -> faces (box, person).
func gtFrames(t *testing.T, clip string) map[int][]stages.Face {
	t.Helper()
	f, err := os.Open(testenv.Data(t, "groundtruth", clip+".gt.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[int][]stages.Face{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l struct {
			Frame int `json:"frame"`
			Faces []struct {
				Box   [4]int `json:"box"`
				Label string `json:"label"`
			} `json:"faces"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		for _, x := range l.Faces {
			out[l.Frame] = append(out[l.Frame], stages.Face{Box: image.Rect(x.Box[0], x.Box[1], x.Box[2], x.Box[3]), Label: x.Label})
		}
	}
	return out
}

// sidecarFrames reads a sidecar.
func sidecarFrames(t *testing.T, path string) []*stages.Frame {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*stages.Frame
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		f, err := stages.ParseFrameJSON(l)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, f)
	}
	return out
}

// whoIsWhere matches each sidecar face to the ground truth (IoU >= 0.4)
// and returns, per true person, the names vidtag gave (its label, or
// "#N" for a cluster, "Unknown" for none) and how often.
func whoIsWhere(t *testing.T, sidecar, clip string) map[string]map[string]int {
	t.Helper()
	gt := gtFrames(t, clip)
	out := map[string]map[string]int{}
	for _, f := range sidecarFrames(t, sidecar) {
		for _, face := range f.Faces {
			best, who := 0.4, ""
			for _, g := range gt[f.Seq] {
				if v := track.IoU(face.Box, g.Box); v >= best {
					best, who = v, g.Label
				}
			}
			if who == "" {
				continue
			}
			got := face.Label
			if !face.Known && face.Cluster > 0 {
				got = fmt.Sprintf("#%d", face.Cluster)
			}
			if out[who] == nil {
				out[who] = map[string]int{}
			}
			out[who][got]++
		}
	}
	return out
}

// clustersOf lists the clusters a person's faces were given.
func clustersOf(names map[string]int) []string {
	var cs []string
	for n := range names {
		if strings.HasPrefix(n, "#") {
			cs = append(cs, n)
		}
	}
	sort.Strings(cs)
	return cs
}

// stableReport is a run report without the fields that measure the run's
// speed (wall_seconds, fps, realtime_factor): the only ones that differ
// between two runs of the same inputs; the output folder's name becomes
// OUT.
func stableReport(t *testing.T, path string) string {
	t.Helper()
	var m map[string]any
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte(filepath.Dir(path)), []byte("OUT"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"wall_seconds", "fps", "realtime_factor"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("%s: no %s", path, k)
		}
		delete(m, k)
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func ffprobeStreams(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:format_tags=comment", "-of", "compact", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return string(out)
}

// TestPeopleBatchAcrossClips: with Obama and Biden left out of the known
// faces, one batch over obama_1080p and obama_biden_720p gives Obama one
// cluster across both clips and Biden another. The same videos run as two
// shards into another folder and unified there give the same bytes
// (sidecars, VTT, reports less their speed figures).
func TestPeopleBatchAcrossClips(t *testing.T) {
	in := t.TempDir()
	for _, c := range []string{"obama_1080p", "obama_biden_720p"} {
		b, err := os.ReadFile(testenv.Data(t, "clips", c+".mp4"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(in, c+".mp4"), b, 0o644)
	}
	known := knownWithout(t, "Barack Obama", "Joe Biden")
	out := t.TempDir()
	code, _, stderr := runCLI(t, append([]string{"batch", in, "-o", out, "--known", known}, modelArgs(t)...)...)
	if code != 0 {
		t.Fatalf("batch: exit %d\n%s", code, stderr)
	}
	obama, biden := map[string]bool{}, map[string]bool{}
	for _, c := range []string{"obama_1080p", "obama_biden_720p"} {
		who := whoIsWhere(t, filepath.Join(out, c+".jsonl"), c)
		t.Logf("%s: %v", c, who)
		for _, n := range clustersOf(who["Barack Obama"]) {
			obama[n] = true
		}
		for _, n := range clustersOf(who["Joe Biden"]) {
			biden[n] = true
		}
		if len(who["Barack Obama"]) != 1 || who["Barack Obama"]["Unknown"] > 0 {
			t.Errorf("%s: Obama's faces are %v, want all in one cluster", c, who["Barack Obama"])
		}
		if c == "obama_biden_720p" && (len(who["Joe Biden"]) != 1 || who["Joe Biden"]["Unknown"] > 0) {
			t.Errorf("%s: Biden's faces are %v, want all in one cluster", c, who["Joe Biden"])
		}
		if s := ffprobeStreams(t, filepath.Join(out, c+".mp4")); !strings.Contains(s, "codec_name=mov_text|codec_type=subtitle") || !strings.Contains(s, "vidtag-subtitles ") {
			t.Errorf("%s.mp4 has no subtitle stream:\n%s", c, s)
		}
	}
	if len(obama) != 1 || len(biden) != 1 || reflect.DeepEqual(obama, biden) {
		t.Fatalf("Obama's clusters %v, Biden's %v: want one each, not the same", obama, biden)
	}
	var ob string
	for n := range obama {
		ob = n
	}
	vtt, _ := os.ReadFile(filepath.Join(out, "obama_1080p.vtt"))
	if want := "00:00:00.000 --> 00:00:05.000\nUnknown " + ob + "\n"; !strings.Contains(string(vtt), want) {
		t.Errorf("obama_1080p.vtt:\n%s\nwant a cue %q", vtt, want)
	}
	rep := readJSON[struct {
		People map[string]people.BatchPerson `json:"people"`
	}](t, filepath.Join(out, "batch-report.json"))
	if p := rep.People["Unknown "+ob]; len(p.Videos) != 2 {
		t.Errorf("batch report: %s is in %d videos, want 2: %+v", ob, len(p.Videos), rep.People)
	}
	// find reads it back.
	code, stdout, stderr := runCLI(t, "find", ob, out)
	if code != 0 || !strings.Contains(stdout, "obama_1080p.mp4") || !strings.Contains(stdout, "obama_biden_720p.mp4") {
		t.Errorf("find %s: exit %d\n%s%s", ob, code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "find", "Nobody", out); code != 1 || !strings.Contains(stderr, "Nobody: not in any video") {
		t.Errorf("find Nobody: exit %d, %s", code, stderr)
	}
	// Unify again: nothing to do.
	sum, err := people.Unify(context.Background(), out)
	if err != nil || len(sum.Written) != 0 {
		t.Errorf("a second Unify wrote %v (%v)", sum.Written, err)
	}

	// Two shards, then the merge's Unify.
	sharded := t.TempDir()
	for _, s := range []string{"0/2", "1/2"} {
		if code, _, stderr := runCLI(t, append([]string{"batch", in, "-o", sharded, "--known", known, "--shard", s}, modelArgs(t)...)...); code != 0 {
			t.Fatalf("shard %s: exit %d\n%s", s, code, stderr)
		}
	}
	// vidtag merge folds the shard reports and unifies the clusters.
	if code, stdout, stderr := runCLI(t, "merge", sharded); code != 0 || !strings.Contains(stdout, "people: 10 stranger tracks of 2 videos in 3 clusters") {
		t.Fatalf("merge: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, _ := runCLI(t, "merge", sharded); code != 0 || !strings.Contains(stdout, "(unchanged)") || !strings.Contains(stdout, "; 0 files rewritten") {
		t.Errorf("a second merge changed something: exit %d\n%s", code, stdout)
	}
	merged := readJSON[struct {
		People map[string]people.BatchPerson `json:"people"`
	}](t, filepath.Join(sharded, "batch-report.json"))
	if !reflect.DeepEqual(merged.People, rep.People) {
		t.Errorf("merged report's people %+v, want the single run's %+v", merged.People, rep.People)
	}
	for _, c := range []string{"obama_1080p", "obama_biden_720p"} {
		for _, ext := range []string{".jsonl", ".vtt", ".html"} {
			a, _ := os.ReadFile(filepath.Join(out, c+ext))
			b, _ := os.ReadFile(filepath.Join(sharded, c+ext))
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%s%s differs between the single run and the shards", c, ext)
			}
		}
		if a, b := stableReport(t, filepath.Join(out, c+".report.json")), stableReport(t, filepath.Join(sharded, c+".report.json")); a != b {
			t.Errorf("%s.report.json differs:\n%s\n%s", c, a, b)
		}
	}
}

// TestPeopleHamiltonEnroll: without Miranda in the known faces his shots
// form one cluster; enrolling that cluster names him on the next run.
func TestPeopleHamiltonEnroll(t *testing.T) {
	known := knownWithout(t, "Lin-Manuel Miranda")
	out := t.TempDir()
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	mp4 := filepath.Join(out, "ham.mp4")
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", mp4, "--report", filepath.Join(out, "ham.report.json"), "--known", known}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("annotate: exit %d\n%s", code, stderr)
	}
	who := whoIsWhere(t, filepath.Join(out, "ham.jsonl"), "short_hamilton_clip")
	t.Logf("%v", who)
	lin := clustersOf(who["Lin-Manuel Miranda"])
	if len(lin) != 1 {
		t.Fatalf("Miranda's faces are in clusters %v, want one", lin)
	}
	for person, names := range who {
		if person != "Lin-Manuel Miranda" && names[lin[0]] > 0 {
			t.Errorf("%s shares Miranda's cluster %s", person, lin[0])
		}
	}
	// A second annotate of the same input gives the same bytes.
	out2 := t.TempDir()
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", filepath.Join(out2, "ham.mp4"), "--report", filepath.Join(out2, "ham.report.json"), "--known", known}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("annotate again: exit %d\n%s", code, stderr)
	}
	if a, b := stableReport(t, filepath.Join(out, "ham.report.json")), stableReport(t, filepath.Join(out2, "ham.report.json")); a != b {
		t.Errorf("reports differ:\n%s\n%s", a, b)
	}
	for _, f := range []string{"ham.jsonl", "ham.vtt", "ham.html"} {
		a, _ := os.ReadFile(filepath.Join(out, f))
		b, _ := os.ReadFile(filepath.Join(out2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", f)
		}
	}

	n := strings.TrimPrefix(lin[0], "#")
	code, stdout, stderr := runCLI(t, "enroll", mp4, "--cluster", n, "--name", "Lin-Manuel Miranda", "--known", known)
	if code != 0 || !strings.Contains(stderr, "wrote ") {
		t.Fatalf("enroll: exit %d\n%s%s", code, stdout, stderr)
	}
	photos, _ := filepath.Glob(filepath.Join(known, "Lin-Manuel Miranda", "*.jpg"))
	if len(photos) == 0 {
		t.Fatalf("enroll wrote no photo")
	}
	// It refuses to overwrite, and writes nothing then.
	if code, _, stderr := runCLI(t, "enroll", mp4, "--cluster", n, "--name", "Lin-Manuel Miranda", "--known", known); code != 1 || !strings.Contains(stderr, "never overwrites") {
		t.Errorf("enroll again: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "enroll", mp4, "--cluster", "99", "--name", "X", "--known", known); code != 1 || !strings.Contains(stderr, "no cluster 99") {
		t.Errorf("enroll a missing cluster: exit %d, %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "enroll", mp4, "--cluster", n, "--name", "../x", "--known", known); code != 2 {
		t.Errorf("enroll --name ../x: exit %d, want 2", code)
	}
	out3 := t.TempDir()
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", filepath.Join(out3, "ham.mp4"), "--known", known}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("annotate after enroll: exit %d\n%s", code, stderr)
	}
	after := whoIsWhere(t, filepath.Join(out3, "ham.jsonl"), "short_hamilton_clip")
	t.Logf("after enroll: %v", after)
	named, all := after["Lin-Manuel Miranda"]["Lin-Manuel Miranda"], 0
	for _, c := range after["Lin-Manuel Miranda"] {
		all += c
	}
	if all == 0 || float64(named) < 0.95*float64(all) {
		t.Errorf("after enroll %d of Miranda's %d faces are named", named, all)
	}
}

// TestPeopleIdentitiesPurity: the identities/ photos made into one clip,
// one photo per shot, shots of the 13 people interleaved: the clusters are
// pure (>= 0.95) and nobody is split into more than 2.
func TestPeopleIdentitiesPurity(t *testing.T) {
	dir := testenv.Data(t, "identities")
	f, err := os.Open(filepath.Join(dir, "identities.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]string{}
	var persons []string
	for _, r := range rows[1:] {
		if by[r[1]] == nil {
			persons = append(persons, r[1])
		}
		by[r[1]] = append(by[r[1]], r[0])
	}
	sort.Strings(persons)
	var shots []string // person of each shot, interleaved
	work := t.TempDir()
	for i := 0; len(shots) < len(rows)-1; i++ {
		for _, p := range persons {
			if i < len(by[p]) {
				// Each photo fitted into 640x480 on its own (their sizes
				// and JPEG flavours differ too much for one ffmpeg input).
				ffmpeg(t, "-i", filepath.Join(dir, by[p][i]), "-vf", "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2",
					"-frames:v", "1", filepath.Join(work, fmt.Sprintf("s%03d.png", len(shots))))
				shots = append(shots, p)
			}
		}
	}
	const perShot = 8 // frames: two keyframes, so every track is confirmed
	clip := filepath.Join(work, "identities.mp4")
	ffmpeg(t, "-framerate", "1.25", "-i", filepath.Join(work, "s%03d.png"), "-vf", "fps=10,format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast", clip)
	out := t.TempDir()
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", filepath.Join(out, "ids.mp4"), "--known", testenv.Data(t, "known")}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("annotate: exit %d\n%s", code, stderr)
	}
	pf, err := people.ReadFile(filepath.Join(out, "ids.people.json"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[int]map[string]int{}
	split := map[string]map[int]bool{}
	clustered := 0
	for _, tk := range pf.Tracks {
		if !tk.Unknown || tk.Cluster == 0 {
			continue
		}
		p := shots[tk.First/perShot]
		if count[tk.Cluster] == nil {
			count[tk.Cluster] = map[string]int{}
		}
		count[tk.Cluster][p]++
		if split[p] == nil {
			split[p] = map[int]bool{}
		}
		split[p][tk.Cluster] = true
		clustered++
	}
	pure := 0
	for _, m := range count {
		best := 0
		for _, v := range m {
			best = max(best, v)
		}
		pure += best
	}
	purity := float64(pure) / math.Max(1, float64(clustered))
	t.Logf("%d shots, %d tracks clustered into %d clusters (cut %.3f), purity %.3f; people per cluster %v", len(shots), clustered, len(count), pf.Cut, purity, count)
	if clustered < len(shots)*9/10 {
		t.Errorf("only %d of %d shots' faces clustered", clustered, len(shots))
	}
	if purity < 0.95 {
		t.Errorf("purity %.3f, want >= 0.95", purity)
	}
	for p, cs := range split {
		if len(cs) > 2 {
			t.Errorf("%s is split into %d clusters", p, len(cs))
		}
	}
}

var urlRE = regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)

// screenshot opens a page from disk in headless Chromium with the network
// blocked and returns the screenshot and what Chromium logged.
func screenshot(t *testing.T, page string, w, h int) (image.Image, string) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		chromium, err = exec.LookPath("chromium-browser")
	}
	testenv.Require(t, err == nil, "chromium (scripts/setup.sh --test installs it)")
	shot := filepath.Join(t.TempDir(), "shot.png")
	abs, _ := filepath.Abs(page)
	cmd := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND", "--force-device-scale-factor=1", "--hide-scrollbars",
		fmt.Sprintf("--window-size=%d,%d", w, h), "--enable-logging=stderr", "--v=0", "--screenshot="+shot, "file://"+abs)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v\n%s", err, logs.String())
		}
	case <-ctxTimeout(120):
		cmd.Process.Kill()
		t.Fatalf("chromium hung")
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, logs.String())
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img, logs.String()
}

func ctxTimeout(sec int) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(sec)*time.Second)
	go func() { <-ctx.Done(); cancel() }()
	return ctx.Done()
}

// colourRun is the longest run of pixels near colour c on row y between
// x0 and x1.
func colourRun(img image.Image, y, x0, x1 int, c [3]int) int {
	best, run := 0, 0
	for x := x0; x < x1; x++ {
		r, g, b, _ := img.At(x, y).RGBA()
		if abs(int(r>>8)-c[0]) < 24 && abs(int(g>>8)-c[1]) < 24 && abs(int(b>>8)-c[2]) < 24 {
			run++
			best = max(best, run)
		} else {
			run = 0
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// spread is the standard deviation of the grey level over a rectangle: a
// photo drawn there has texture, an empty box or a flat colour none.
func spread(img image.Image, r image.Rectangle) float64 {
	var s, ss, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			v := (float64(cr>>8) + float64(cg>>8) + float64(cb>>8)) / 3
			s, ss, n = s+v, ss+v*v, n+1
		}
	}
	m := s / n
	return math.Sqrt(ss/n - m*m)
}

// TestPeoplePageInChromium: a batch's review page and index.html open
// from disk in headless Chromium with the network blocked; the screenshot
// shows the face thumbnails and the timeline bars; nothing is logged to
// the console; the pages hold no http(s) address.
func TestPeoplePageInChromium(t *testing.T) {
	in := t.TempDir()
	// Obama and Biden side by side, then small on a grey canvas (4 s).
	ffmpeg(t, "-i", testenv.Data(t, "clips", "obama_biden_720p.mp4"), "-vf", "select=between(n\\,198\\,311),setpts=N/FRAME_RATE/TB", "-an",
		"-c:v", "libx264", "-preset", "ultrafast", filepath.Join(in, "two.mp4"))
	out := t.TempDir()
	known := knownWithout(t, "Barack Obama", "Joe Biden")
	if code, _, stderr := runCLI(t, append([]string{"batch", in, "-o", out, "--known", known}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("batch: exit %d\n%s", code, stderr)
	}
	page := filepath.Join(out, "two.html")
	pf, err := people.ReadFile(filepath.Join(out, "two.people.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep := readJSON[struct {
		People map[string]people.Person `json:"people"`
	}](t, filepath.Join(out, "two.report.json"))
	if len(rep.People) != 2 {
		t.Fatalf("want two people (clusters), got %v", rep.People)
	}
	for _, p := range []string{page, filepath.Join(out, "index.html")} {
		b, _ := os.ReadFile(p)
		if m := urlRE.FindString(string(b)); m != "" {
			t.Errorf("%s refers to %q: a page must work offline", p, m)
		}
		if !bytes.Contains(b, []byte("data:image/jpeg;base64,")) {
			t.Errorf("%s has no inline thumbnail", p)
		}
	}
	img, logs := screenshot(t, page, 1280, 800)
	if strings.Contains(logs, ":CONSOLE") {
		t.Errorf("console messages:\n%s", logs)
	}
	dur := float64(pf.Frames) / pf.FrameRate
	names := []string{"Unknown #1", "Unknown #2"}
	for i, n := range names {
		top := people.HeaderHeight + i*people.RowHeight
		thumb := image.Rect(people.ThumbLeft, top+(people.RowHeight-people.Thumb)/2, people.ThumbLeft+people.Thumb, top+(people.RowHeight+people.Thumb)/2)
		if s := spread(img, thumb.Inset(8)); s < 15 {
			t.Errorf("row %d (%s): no thumbnail drawn at %v (grey level spread %.1f)", i, n, thumb, s)
		}
		// The bar: the red segments cover the person's share of the video.
		y := top + people.RowHeight/2
		red := colourRun(img, y, people.BarLeft, people.BarLeft+people.BarWidth, [3]int{0xd6, 0x27, 0x28})
		p := rep.People[n]
		want := 0.0
		for _, r := range p.Ranges {
			want = math.Max(want, (r[1]-r[0])/dur*people.BarWidth)
		}
		if math.Abs(float64(red)-want) > 4 {
			t.Errorf("row %d (%s): longest red segment %d px, want %.0f px (%v of %.1f s)", i, n, red, want, p.Ranges, dur)
		}
		if grey := colourRun(img, y, people.BarLeft, people.BarLeft+people.BarWidth, [3]int{0xe6, 0xe6, 0xe6}); red+grey < people.BarWidth/2 {
			t.Errorf("row %d: no bar drawn (%d red, %d grey px)", i, red, grey)
		}
	}
	// The control: the same page without its thumbnails and segments
	// fails both checks, so they do look at what was drawn.
	orig, _ := os.ReadFile(page)
	bare := regexp.MustCompile(`<img [^>]*>`).ReplaceAll(orig, nil)
	bare = regexp.MustCompile(`<div class="seg"[^>]*></div>`).ReplaceAll(bare, nil)
	control := filepath.Join(out, "control.html")
	os.WriteFile(control, bare, 0o644)
	cimg, _ := screenshot(t, control, 1280, 800)
	top := people.HeaderHeight
	if s := spread(cimg, image.Rect(people.ThumbLeft, top+(people.RowHeight-people.Thumb)/2, people.ThumbLeft+people.Thumb, top+(people.RowHeight+people.Thumb)/2).Inset(8)); s >= 15 {
		t.Errorf("control page without thumbnails: spread %.1f, the check would not notice", s)
	}
	if red := colourRun(cimg, top+people.RowHeight/2, people.BarLeft, people.BarLeft+people.BarWidth, [3]int{0xd6, 0x27, 0x28}); red != 0 {
		t.Errorf("control page without segments: %d red px", red)
	}
	if t.Failed() {
		os.WriteFile(filepath.Join(os.TempDir(), "vidtag-people-page.png"), encodePNG(img), 0o644)
		t.Logf("screenshot kept in %s", filepath.Join(os.TempDir(), "vidtag-people-page.png"))
	}
	// PAGE.html#t=1 (what clicking a segment does) seeks there, and the
	// page says who is on screen then: its script ran.
	chromium, _ := exec.LookPath("chromium")
	if chromium == "" {
		chromium, _ = exec.LookPath("chromium-browser")
	}
	abs, _ := filepath.Abs(page)
	dom, err := exec.Command(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir="+t.TempDir(),
		"--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND", "--dump-dom", "file://"+abs+"#t=1").Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	if want := `<div id="now">On screen: Unknown #1, Unknown #2`; !strings.Contains(string(dom), want) {
		t.Errorf("%s#t=1: want %s in the page, got:\n%s", page, want, regexp.MustCompile(`<div id="now">[^<]*</div>`).Find(dom))
	}
	// index.html: a thumbnail per person (photos are colourful, the
	// page's text and lines are not).
	idx, logs := screenshot(t, filepath.Join(out, "index.html"), 1000, 600)
	if strings.Contains(logs, ":CONSOLE") {
		t.Errorf("index.html: console messages:\n%s", logs)
	}
	coloured := 0
	bounds := idx.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := idx.At(x, y).RGBA()
			hi, lo := max(r, g, b)>>8, min(r, g, b)>>8
			if hi-lo > 40 {
				coloured++
			}
		}
	}
	if coloured < 2*48*48 {
		t.Errorf("index.html: %d coloured pixels, want the two thumbnails (64x64 each)", coloured)
	}
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestPeopleSubtitlesOff: --subtitles=false writes no VTT and no subtitle
// stream; turned on again over the same outputs, both come back.
func TestPeopleSubtitlesOff(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "in.mp4")
	ffmpeg(t, "-i", testenv.Data(t, "clips", "obama_biden_720p.mp4"), "-frames:v", "30", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", clip)
	out := filepath.Join(dir, "out.mp4")
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", out, "--subtitles=false"}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.vtt")); err == nil {
		t.Errorf("--subtitles=false wrote out.vtt")
	}
	if s := ffprobeStreams(t, out); strings.Contains(s, "subtitle") {
		t.Errorf("--subtitles=false: the MP4 has a subtitle stream:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.html")); err != nil {
		t.Errorf("the page is written either way: %v", err)
	}
	if code, _, stderr := runCLI(t, append([]string{"annotate", clip, "-o", out, "--force"}, modelArgs(t)...)...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	vtt, _ := os.ReadFile(filepath.Join(dir, "out.vtt"))
	if s := ffprobeStreams(t, out); !strings.Contains(s, "codec_name=mov_text") || !strings.Contains(string(vtt), "Unknown #1") {
		t.Errorf("subtitles on again: vtt %q, streams:\n%s", vtt, s)
	}
	// A sidecar on stdout cannot be rewritten: no people step then.
	dir2 := t.TempDir()
	code, stdout, stderr := runCLI(t, append([]string{"annotate", clip, "-o", filepath.Join(dir2, "o.mp4"), "--sidecar", "-"}, modelArgs(t)...)...)
	if code != 0 || !strings.Contains(stdout, `"cluster": null`) {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := listDir(t, dir2); !reflect.DeepEqual(got, []string{"o.mp4"}) {
		t.Errorf("--sidecar -: the folder holds %v", got)
	}
}
