package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
)

// ffmpeg runs ffmpeg for a test fixture.
func ffmpeg(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// batchFolder builds an archive: good clips in two containers, a clip with
// no face, and broken files, plus files batch must ignore.
func batchFolder(t *testing.T) string {
	t.Helper()
	in := t.TempDir()
	for _, d := range []string{"talks", "other", "broken", ".hidden"} {
		os.MkdirAll(filepath.Join(in, d), 0o755)
	}
	ham := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	// 30 frames of Lin-Manuel Miranda on stage (frames 82-111), with audio.
	ffmpeg(t, "-i", ham, "-vf", "select=between(n\\,82\\,111),setpts=N/FRAME_RATE/TB", "-af", "atrim=start=3.5:duration=1,asetpts=N/SR/TB",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", filepath.Join(in, "talks", "lin.mp4"))
	// 30 frames of Barack Obama, in Matroska.
	ffmpeg(t, "-i", testenv.Data(t, "clips", "obama_1080p.mp4"), "-frames:v", "30", "-vf", "scale=640:-2", "-an",
		"-c:v", "libx264", "-preset", "ultrafast", filepath.Join(in, "talks", "obama.mkv"))
	ffmpeg(t, "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
		filepath.Join(in, "other", "noface.mp4"))
	// A cut-off download: the first 40% of a clip whose header is at the start.
	full := filepath.Join(t.TempDir(), "full.mp4")
	ffmpeg(t, "-i", ham, "-frames:v", "60", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart", full)
	b, _ := os.ReadFile(full)
	os.WriteFile(filepath.Join(in, "broken", "truncated.mp4"), b[:len(b)*4/10], 0o644)
	os.WriteFile(filepath.Join(in, "broken", "empty.mp4"), nil, 0o644)
	os.WriteFile(filepath.Join(in, "broken", "notes.mp4"), []byte("not a video\n"), 0o644)
	os.WriteFile(filepath.Join(in, ".hidden", "secret.mp4"), b, 0o644)
	os.WriteFile(filepath.Join(in, "readme.txt"), []byte("ignore me"), 0o644)
	return in
}

func statuses(r *batch.Report) map[string]string {
	m := map[string]string{}
	for _, v := range r.Videos {
		m[v.Input] = v.Status
	}
	return m
}

func TestBatchStatusesResumeAndSettings(t *testing.T) {
	in := batchFolder(t)
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"batch", in, "-o", out, "--known", testenv.Data(t, "known")}, modelArgs(t)...)

	code, stdout, stderr := runCLI(t, args...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1 (some files are broken); stderr: %s", code, stderr)
	}
	if l := lastLine(stderr); !strings.Contains(l, "3 of 6 videos failed") {
		t.Errorf("last line %q", l)
	}
	rep := readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))
	want := map[string]string{
		"talks/lin.mp4": "ok", "talks/obama.mkv": "ok", "other/noface.mp4": "ok",
		"broken/truncated.mp4": "failed", "broken/empty.mp4": "failed", "broken/notes.mp4": "failed",
	}
	if got := statuses(rep); len(got) != len(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for _, v := range rep.Videos {
		if v.Status != want[v.Input] {
			t.Errorf("%s: %s (%s), want %s", v.Input, v.Status, v.Error, want[v.Input])
		}
	}
	errs := map[string]string{}
	for _, v := range rep.Videos {
		errs[v.Input] = v.Error
	}
	for in, w := range map[string]string{"broken/truncated.mp4": "truncated", "broken/empty.mp4": "empty file", "broken/notes.mp4": "not a video"} {
		if !strings.Contains(errs[in], w) {
			t.Errorf("%s: error %q, want it to say %q", in, errs[in], w)
		}
	}
	for _, v := range rep.Videos {
		if v.Input == "talks/lin.mp4" && v.People["Lin-Manuel Miranda"] < 0.5 {
			t.Errorf("lin.mp4: people %v", v.People)
		}
	}
	for _, f := range []string{"talks/lin.mp4", "talks/lin.jsonl", "talks/lin.report.json", "talks/obama.mp4", "other/noface.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output %s", f)
		}
	}
	for _, f := range []string{"broken/empty.mp4", "broken/notes.mp4", "broken/notes.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("a failed input left %s", f)
		}
	}
	if !strings.Contains(stdout, "talks/obama.mkv") || !strings.Contains(stdout, "6 videos: 3 ok, 3 failed, 0 skipped") {
		t.Errorf("table:\n%s", stdout)
	}
	linMTime := mtime(t, filepath.Join(out, "talks", "lin.mp4"))

	// Re-run: what is complete is skipped, what failed is tried again.
	code, _, _ = runCLI(t, args...)
	rep = readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))
	if s := statuses(rep); code != exitFailure || s["talks/lin.mp4"] != "skipped" || s["talks/obama.mkv"] != "skipped" || s["broken/empty.mp4"] != "failed" {
		t.Errorf("re-run: exit %d, statuses %v", code, s)
	}
	if mtime(t, filepath.Join(out, "talks", "lin.mp4")) != linMTime {
		t.Error("re-run rewrote a complete output")
	}

	// Another tolerance changes the outputs: everything is redone.
	code, _, _ = runCLI(t, append(args, "--tolerance", "0.5")...)
	rep = readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))
	if s := statuses(rep); s["talks/lin.mp4"] != "ok" || s["other/noface.mp4"] != "ok" {
		t.Errorf("after changing the tolerance: %v", s)
	}
	// --force redoes without a change.
	runCLI(t, append(args, "--tolerance", "0.5", "--force")...)
	if s := statuses(readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))); s["talks/lin.mp4"] != "ok" {
		t.Errorf("with --force: %v", s)
	}
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// TestBatchRerunLoadsNothing: over a complete folder a re-run only reads
// reports and stats files: no model is loaded, nothing is decoded.
func TestBatchRerunLoadsNothing(t *testing.T) {
	in := batchFolder(t)
	os.RemoveAll(filepath.Join(in, "broken"))
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"batch", in, "-o", out, "--known", testenv.Data(t, "known"), "--sidecar-only", "--log-level", "debug"}, modelArgs(t)[:2]...)
	if code, _, stderr := runCLI(t, args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	start := time.Now()
	code, _, stderr := runCLI(t, args...)
	took := time.Since(start)
	if code != exitOK || strings.Contains(stderr, "models verified") {
		t.Errorf("re-run: exit %d; it loaded models:\n%s", code, stderr)
	}
	if s := statuses(readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))); len(s) != 3 || s["talks/lin.mp4"] != "skipped" {
		t.Errorf("statuses %v", s)
	}
	t.Logf("re-run over 3 complete videos: %v", took)
}

// buildVidtag builds vidtag as it is installed, for tests that need a
// separate process: the launcher (cmd/vidtag-launcher) with vidtag-core
// beside it. It returns the launcher's path.
func buildVidtag(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg, cgo string }{
		{"vidtag-core", ".", "1"},
		{"vidtag", "../vidtag-launcher", "0"},
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", b.pkg, err, out)
		}
	}
	// as make build leaves it: OpenCV's I/O modules loaded when first used
	if out, err := exec.Command("../../scripts/lazy-cv.sh", filepath.Join(dir, "vidtag-core")).CombinedOutput(); err != nil {
		t.Fatalf("lazy-cv.sh: %v\n%s", err, out)
	}
	return filepath.Join(dir, "vidtag")
}

// TestBatchShardsConcurrently runs three shards at once into one output
// folder, as three pods of an Indexed Job would: together they write every
// video exactly once.
func TestBatchShardsConcurrently(t *testing.T) {
	bin := buildVidtag(t)
	in := batchFolder(t)
	out := filepath.Join(t.TempDir(), "out")
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "batch", in, "-o", out, "--known", testenv.Data(t, "known"), "--models", testenv.Models(t),
				"--sidecar-only", "--workers", "1", "--shard", []string{"0/3", "1/3", "2/3"}[i], "--log-level", "warn")
			cmd.Run() // exit 1 for the shard that holds a broken file
		}()
	}
	wg.Wait()
	seen := map[string]string{}
	for i := 0; i < 3; i++ {
		path := batch.ReportPath(out, batch.Shard{Index: i, Count: 3})
		r := readJSON[batch.Report](t, path)
		for _, v := range r.Videos {
			if prev, dup := seen[v.Input]; dup {
				t.Errorf("%s handled by shards %s and %d", v.Input, prev, i)
			}
			seen[v.Input] = filepath.Base(path)
		}
	}
	if len(seen) != 6 {
		t.Errorf("the shards covered %d of 6 videos: %v", len(seen), seen)
	}
	for _, f := range []string{"talks/lin.jsonl", "talks/obama.jsonl", "other/noface.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// TestBatchKilledRunResumes stops a batch in the middle, with Ctrl-C (exit
// 130) and with SIGKILL: no half file is left under a final name, and the
// next run finishes the job, skipping what was already complete.
func TestBatchKilledRunResumes(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { testBatchStopResume(t, sig) })
	}
}

func testBatchStopResume(t *testing.T, sig syscall.Signal) {
	bin := buildVidtag(t)
	in := batchFolder(t)
	os.RemoveAll(filepath.Join(in, "broken"))
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"batch", in, "-o", out, "--known", testenv.Data(t, "known"), "--models", testenv.Models(t), "--jobs", "1", "--log-level", "warn"}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once the first video (in sorted order: other/noface.mp4) is
	// done. The annotated MP4 is the last output put in place (after the
	// sidecar and the report), so its final name means the video is done;
	// a kill between the report and the MP4 rightly makes the resume redo it.
	first := filepath.Join(out, "other", "noface.mp4")
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(first); err == nil {
			break
		}
	}
	if sig == syscall.SIGKILL {
		killHard(t, cmd)
	} else {
		cmd.Process.Signal(sig)
		cmd.Wait()
	}
	if code := cmd.ProcessState.ExitCode(); sig == syscall.SIGINT && code != exitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want %d", code, exitInterrupted)
	}

	// Every file under a final name is whole.
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		switch filepath.Ext(path) {
		case ".mp4":
			if _, err := media.Probe(t.Context(), path); err != nil {
				t.Errorf("half-written video under its final name: %v", err)
			}
		case ".json", ".jsonl":
			b, _ := os.ReadFile(path)
			if len(b) == 0 || b[len(b)-1] != '\n' {
				t.Errorf("half-written %s", path)
			}
		}
		return nil
	})

	code, _, stderr := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("resumed run: exit %d: %s", code, stderr)
	}
	s := statuses(readJSON[batch.Report](t, filepath.Join(out, "batch-report.json")))
	if s["other/noface.mp4"] != "skipped" || len(s) != 3 {
		t.Errorf("resumed run statuses %v: the video finished before the kill should be skipped", s)
	}
	for _, f := range []string{"talks/lin.mp4", "talks/obama.mp4", "talks/lin.report.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s after resuming", f)
		}
	}
}
