package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/internal/outfile"
	"github.com/vidtag/vidtag/internal/testengine"
	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/models"
)

// Tests for the cases of issue 14 ("data safety"), by its numbers.

func hashFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// smallClip is 1 s of Lin-Manuel Miranda at 320x180 with audio.
func smallClip(t *testing.T, dir, name string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	args := append([]string{"-ss", "3", "-t", "1", "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-vf", "scale=320:180",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"}, extra...)
	ffmpeg(t, append(args, path)...)
	return path
}

func oneStderrLine(t *testing.T, stderr string) string {
	t.Helper()
	if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; n != 1 {
		t.Errorf("%d lines on stderr, want one:\n%s", n, stderr)
	}
	return lastLine(stderr)
}

// Cases 1, 2 and 6: an output that is an input, by any name, or two
// outputs that are one file: exit 2, whatever --force says, and the input
// is unchanged.
func TestOutputsNeverReplaceInputs(t *testing.T) {
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	os.Link(in, filepath.Join(dir, "hard.mp4"))
	os.Symlink("in.mp4", filepath.Join(dir, "sym.mp4"))
	batchIn := filepath.Join(dir, "folder")
	os.MkdirAll(filepath.Join(batchIn, "sub"), 0o755)
	os.Link(in, filepath.Join(batchIn, "sub", "x.mp4"))
	batchOut := filepath.Join(dir, "out")
	os.Mkdir(batchOut, 0o755)
	os.Link(in, filepath.Join(batchOut, "x.mp4")) // an earlier output folder, holding a hard link to the input
	want := hashFile(t, in)
	m := modelArgs(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"annotate -o input", []string{"annotate", in, "-o", in, "--force"}, "-o " + in + ": is the input"},
		{"annotate --sidecar input", []string{"annotate", in, "-o", filepath.Join(dir, "o.mp4"), "--sidecar", in, "--force"}, "--sidecar"},
		{"annotate --report input", []string{"annotate", in, "-o", filepath.Join(dir, "o.mp4"), "--report", in, "--force"}, "--report"},
		{"annotate -o hard link", []string{"annotate", in, "-o", filepath.Join(dir, "hard.mp4"), "--force"}, "the same file by another name"},
		{"annotate -o symlink", []string{"annotate", in, "-o", filepath.Join(dir, "sym.mp4"), "--force"}, "is the input"},
		{"annotate -o ./../", []string{"annotate", in, "-o", filepath.Join(dir, "folder", "..", "in.mp4"), "--force"}, "is the input"},
		{"sidecar and report one file", []string{"annotate", in, "-o", filepath.Join(dir, "o.mp4"), "--sidecar", filepath.Join(dir, "r.json"),
			"--report", filepath.Join(dir, "r.json")}, "given for two outputs (--report and --sidecar)"},
		{"live --record input", []string{"live", "--input", in, "--headless", "--record", in, "--force"}, "--record"},
		{"live --events input", []string{"live", "--input", in, "--headless", "--events", in, "--force"}, "--events"},
		{"live --report hard link", []string{"live", "--input", in, "--headless", "--report", filepath.Join(dir, "hard.mp4"), "--force"}, "--report"},
		{"batch over its own folder", []string{"batch", batchIn, "-o", batchIn, "--force"}, "is the input folder"},
		{"batch output is a hard link to an input", []string{"batch", filepath.Join(batchIn, "sub"), "-o", batchOut, "--force"}, "would replace input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(tt.args, m...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if l := oneStderrLine(t, stderr); !strings.Contains(l, tt.want) || !strings.Contains(l, "never overwrites an input") && !strings.Contains(l, "two outputs") {
				t.Errorf("line %q, want %q", l, tt.want)
			}
			if got := hashFile(t, in); got != want {
				t.Fatal("the input changed")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "r.json")); err == nil {
		t.Error("r.json written")
	}
}

// Case 5: a second run writing an output that a live run is writing
// refuses with one line; the first run's lock goes with it.
func TestOutputLockedByAnotherRun(t *testing.T) {
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	out := filepath.Join(dir, "out.mp4")
	lock, err := outfile.Acquire(out) // as the other run does
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, append([]string{"annotate", in, "-o", out, "--force"}, modelArgs(t)...)...)
	if l := oneStderrLine(t, stderr); code != exitFailure || !strings.Contains(l, "out.mp4: another vidtag run is writing it") {
		t.Errorf("exit %d, %q", code, l)
	}
	lock.Release()
	code, _, stderr = runCLI(t, append([]string{"annotate", in, "-o", out}, modelArgs(t)...)...)
	if code != exitOK {
		t.Errorf("after release: exit %d: %s", code, stderr)
	}
}

// Case 11: temporary files that killed runs left for an output are
// removed by the next run for it; case 13: a 249-character name works.
func TestStaleTempsAndLongNames(t *testing.T) {
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	out := filepath.Join(dir, strings.Repeat("x", 245)+".mp4")
	stale := []string{strings.Replace(filepath.Base(outfile.TempPattern(out)), "*", "4242", 1), ".in-out.mp4123"}
	old := filepath.Join(dir, "o.mp4")
	stale = append(stale, strings.Replace(filepath.Base(outfile.TempPattern(old)), "*", "77", 1), ".o.mp4123456")
	for _, s := range stale {
		os.WriteFile(filepath.Join(dir, s), []byte("half"), 0o644)
	}
	for _, o := range []string{out, old} {
		code, _, stderr := runCLI(t, append([]string{"annotate", in, "-o", o, "--report", strings.TrimSuffix(o, ".mp4") + ".r.json"}, modelArgs(t)...)...)
		if code != exitOK {
			t.Fatalf("%d-character name: exit %d: %s", len(filepath.Base(o)), code, stderr)
		}
	}
	for _, n := range listDir(t, dir) {
		if strings.HasPrefix(n, ".") && n != ".in-out.mp4123" { // (not a temp of any output here)
			t.Errorf("left: %s", n)
		}
	}
	if _, err := media.Probe(context.Background(), out); err != nil {
		t.Error(err)
	}
}

// Case 12: a signal that arrives before Main runs (while the program
// starts) is caught, not fatal: exit 130 and one line.
func TestSignalBeforeStart(t *testing.T) {
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond) // delivered to package earlysig's channel
	var stdout, stderr bytes.Buffer
	code := Main([]string{"vidtag", "annotate", "x.mp4", "-o", "y.mp4"}, &stdout, &stderr)
	if l := oneStderrLine(t, stderr.String()); code != exitInterrupted || !strings.Contains(l, "interrupted by SIGTERM before starting; nothing written") {
		t.Errorf("exit %d, %q", code, l)
	}
}

// Case 14: under --log-format json every stderr line is JSON, the stats
// table and the summary included, and so is the final error.
func TestJSONLogsOnly(t *testing.T) {
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	out := filepath.Join(dir, "out.mp4")
	for _, args := range [][]string{
		{"annotate", in, "-o", out, "--stats", "--log-level", "info"},
		{"annotate", in, "-o", out, "--log-level", "info"}, // exists: fails
		{"annotate", "/no/such.mp4", "-o", filepath.Join(dir, "x.mp4")},
		{"annotate", in, "-o", out, "--tolerance", "0"}, // usage error, found while reading the settings
	} {
		code, _, stderr := runCLI(t, append(append(args, "--models", testenv.Models(t), "--known", testenv.Data(t, "known")), "--log-format", "json")...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Errorf("%v: not JSON: %s", args, l)
			}
		}
		if code != exitOK && !strings.Contains(lines[len(lines)-1], `"exit":`) {
			t.Errorf("%v: last line %s", args, lines[len(lines)-1])
		}
		if slices.Contains(args, "--stats") && (code != exitOK || !strings.Contains(stderr, `"stage":"detect"`) || !strings.Contains(stderr, "-> "+out)) {
			t.Errorf("%v: exit %d, no stats or summary: %s", args, code, stderr)
		}
	}
}

// Case 14 (live): a missing camera is one line, without OpenCV's and
// GStreamer's own warnings; a missing file says so.
func TestLiveOneLine(t *testing.T) {
	bin := buildVidtag(t)
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--camera", "7"}, "camera 7: cannot open it"},
		{[]string{"--input", filepath.Join(dir, "gone.mp4"), "--events", filepath.Join(dir, "ev.jsonl")}, "gone.mp4: no such file or directory"},
		{[]string{"--input", filepath.Join(dir, "gone.mp4"), "--report", filepath.Join(dir, "nodir", "r.json")}, "gone.mp4: no such file"},
	} {
		cmd := exec.Command(bin, append(append([]string{"live", "--headless", "--known", testenv.Data(t, "known")}, tt.args...), modelArgs(t)...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		if l := oneStderrLine(t, stderr.String()); cmd.ProcessState.ExitCode() != exitFailure || !strings.Contains(l, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, cmd.ProcessState.ExitCode(), l)
		}
	}
	if left := listDir(t, dir); len(left) != 0 {
		t.Errorf("left behind: %v (an --events file for a session that never started)", left)
	}
}

// Case 10: live checks its outputs before the session starts.
func TestLiveChecksOutputsFirst(t *testing.T) {
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	start := time.Now()
	code, _, stderr := runCLI(t, append([]string{"live", "--input", in, "--headless", "--report", filepath.Join(dir, "nodir", "r.json")}, modelArgs(t)...)...)
	if l := oneStderrLine(t, stderr); code != exitFailure || !strings.Contains(l, "nodir/r.json: cannot write here") {
		t.Errorf("exit %d, %q", code, l)
	}
	t.Logf("failed after %v", time.Since(start).Round(time.Millisecond))
}

// Cases 4 and 9: Ctrl-C to the process group (as a terminal sends it)
// during live --record on an HTTP URL: the URL plays at its own rate, exit
// 130, the recording is kept and playable, and the message says so. Then
// the same URL to its end: it ends (no replay), exit 0.
func TestLiveURLRecordAndInterrupt(t *testing.T) {
	dir := t.TempDir()
	clip := smallClip(t, dir, "clip.mp4", "-movflags", "+faststart")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, clip) })}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/clip.mp4"
	bin := buildVidtag(t)

	rec := filepath.Join(dir, "g.rec.mp4")
	cmd := exec.Command(bin, "live", "--input", url, "--headless", "--record", rec, "--models", testenv.Models(t), "--log-level", "info")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), `"size": "320x180"`) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // the whole group, as Ctrl-C in a terminal
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d: %s", code, exitInterrupted, stderr.String())
	}
	if l := lastLine(stderr.String()); !strings.Contains(l, "interrupted by ") || !strings.Contains(l, "; kept recording "+rec) {
		t.Errorf("last line %q", l)
	}
	if n, err := media.CountFrames(context.Background(), rec); err != nil || n == 0 {
		t.Errorf("recording: %d frames, %v", n, err)
	}

	// To the end: 30 frames at 30 fps take about a second, and it stops.
	rep := filepath.Join(dir, "r.json")
	start := time.Now()
	code, _, errs := runCLI(t, append([]string{"live", "--input", url, "--headless", "--report", rep}, modelArgs(t)...)...)
	took := time.Since(start)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r struct {
		Seconds        float64 `json:"seconds"`
		FramesCaptured int     `json:"frames_captured"`
	}
	b, _ := os.ReadFile(rep)
	json.Unmarshal(b, &r)
	frames, _ := media.CountFrames(context.Background(), clip)
	if r.FramesCaptured != frames || r.Seconds < 0.8*float64(frames)/30 {
		t.Errorf("captured %d frames of %d in %.2fs (%v): not the clip once at its own rate", r.FramesCaptured, frames, r.Seconds, took)
	}
}

// Case 9: a stream that is lost and does not come back is given up after
// --reconnects tries, with one line, exit 1.
func TestLiveGivesUp(t *testing.T) {
	dir := t.TempDir()
	clip := smallClip(t, dir, "clip.mp4", "-movflags", "+faststart")
	b, _ := os.ReadFile(clip)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The first request gets half the file and a cut connection; then the
	// server is gone.
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b[:len(b)/2])
		if hj, ok := w.(http.Hijacker); ok {
			c, _, _ := hj.Hijack()
			c.Close()
		}
		go ln.Close()
	})}
	go srv.Serve(ln)
	defer srv.Close()
	code, _, stderr := runCLI(t, append([]string{"live", "--input", "http://" + ln.Addr().String() + "/c.mp4", "--headless", "--reconnects", "2"}, modelArgs(t)...)...)
	if l := lastLine(stderr); code != exitFailure || !strings.Contains(l, "source lost; gave up after 2 reconnects") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// Cases 7 and 16: batch goes on past an unreadable folder and an
// unreadable known photo (warned about once), writes its report, says
// "videos": [] for an empty folder, and redoes a video whose sidecar was
// cut short. Run as an unprivileged user when root (root reads anything).
func TestBatchIsolatesFailures(t *testing.T) {
	bin := buildVidtag(t)
	os.Chmod(filepath.Dir(bin), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755)
	root := t.TempDir()
	os.Chmod(root, 0o755)
	os.Chmod(filepath.Dir(root), 0o755)
	in := filepath.Join(root, "in")
	os.MkdirAll(filepath.Join(in, "locked"), 0o755)
	smallClip(t, in, "a.mp4")
	smallClip(t, filepath.Join(in, "locked"), "b.mp4")
	known := filepath.Join(root, "known")
	os.MkdirAll(known, 0o755)
	for _, p := range []string{"Lin-Manuel Miranda.png", "Barack Obama.jpg"} {
		b, _ := os.ReadFile(testenv.Data(t, "known", p))
		os.WriteFile(filepath.Join(known, p), b, 0o644)
	}
	os.Chmod(filepath.Join(known, "Barack Obama.jpg"), 0)
	os.Chmod(filepath.Join(in, "locked"), 0)
	out := filepath.Join(root, "out")
	os.Mkdir(out, 0o777)
	os.Chmod(out, 0o777)
	// The models, where the unprivileged user can read them whatever
	// folder the repository is in (a checkout under a 0700 folder).
	modelDir := filepath.Join(root, "models")
	os.Mkdir(modelDir, 0o755)
	for _, f := range models.Names() {
		if err := linkOrCopy(filepath.Join(testenv.Models(t), f), filepath.Join(modelDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append(args, "--models", modelDir, "--log-level", "warn")...)
		cmd.Env = append(os.Environ(), "VIDTAG_CACHE=off")
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	code, stderr := run("batch", in, "-o", out, "--known", known, "--sidecar-only")
	if code != exitFailure || strings.Count(stderr, "known photo skipped") != 1 || !strings.Contains(lastLine(stderr), "1 of 2 videos failed") {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	r := readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))
	s := statuses(r)
	if s["a.mp4"] != "ok" || s["locked/"] != "failed" {
		t.Errorf("statuses %v", s)
	}

	// A sidecar cut to 5 lines is not complete: the re-run redoes it.
	side := filepath.Join(out, "a.jsonl")
	b, _ := os.ReadFile(side)
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) < 6 {
		t.Fatalf("%s has %d lines", side, len(lines)-1)
	}
	os.WriteFile(side, []byte(strings.Join(lines[:5], "")), 0o644)
	run("batch", in, "-o", out, "--known", known, "--sidecar-only")
	if s := statuses(readJSON[batch.Report](t, filepath.Join(out, "batch-report.json"))); s["a.mp4"] != "ok" {
		t.Errorf("a cut sidecar counted complete: %v", s)
	}
	checkSidecarFrames(t, side, len(lines)-1)

	// An empty folder: "videos": [].
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	eout := filepath.Join(root, "eout")
	os.Mkdir(eout, 0o777)
	os.Chmod(eout, 0o777)
	if code, stderr := run("batch", empty, "-o", eout); code != exitOK {
		t.Fatalf("empty folder: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(eout, "batch-report.json")); !bytes.Contains(b, []byte(`"videos": []`)) {
		t.Errorf("empty folder report: %s", b)
	}
}

// Case 16: -o - is a usage error and creates no file named "-".
func TestOutputDashIsUsageError(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	os.Chdir(dir)
	defer os.Chdir(wd)
	in := smallClip(t, dir, "in.mp4")
	code, _, stderr := runCLI(t, append([]string{"annotate", in, "-o", "-"}, modelArgs(t)...)...)
	if l := oneStderrLine(t, stderr); code != exitUsage || !strings.Contains(l, "-o -") {
		t.Errorf("exit %d, %q", code, l)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Error("a file named - was created")
	}
}

// Case 16: one photo enrolled under two names is warned about.
func TestSamePhotoTwoNamesWarns(t *testing.T) {
	pool := testengine.Pool(t, 1)
	dir := t.TempDir()
	photo := testenv.Data(t, "known", "Barack Obama.jpg")
	for _, name := range []string{"Barack Obama.jpg", "Joe Biden.jpg"} {
		b, _ := os.ReadFile(photo)
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	t.Setenv("VIDTAG_CACHE", "off")
	core, logs := observer.New(zap.WarnLevel)
	if _, err := engine.Enroll(context.Background(), dir, pool, zap.New(core)); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessage("the same photo is enrolled under two names").Len(); n != 1 {
		t.Errorf("%d warnings, want 1: %v", n, logs.All())
	}
}

// Case 16: under umask 000 the events file is 0644, not 0666 (as every
// output: 0644 less the umask).
func TestEventsFileModeUnderUmask000(t *testing.T) {
	bin := buildVidtag(t)
	dir := t.TempDir()
	in := smallClip(t, dir, "in.mp4")
	events, report := filepath.Join(dir, "ev.jsonl"), filepath.Join(dir, "r.json")
	cmd := exec.Command(bin, append([]string{"live", "--input", in, "--headless", "--events", events, "--report", report,
		"--known", testenv.Data(t, "known")}, modelArgs(t)...)...)
	old := syscall.Umask(0) // inherited by the child
	err := cmd.Start()
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{events, report} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v; want 0644", p, st.Mode().Perm(), err)
		}
	}
}

// linkOrCopy hard-links src to dst, or copies it across file systems,
// readable by all.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
