package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/live"
	"github.com/vidtag/vidtag/media"
	"github.com/vidtag/vidtag/stages"
)

func readEvents(t *testing.T, path string) []live.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []live.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e live.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

// TestLiveHeadlessRealTime plays the Hamilton clip at its own rate, as a
// camera would deliver it, and checks latency, frame rate, drops and how
// soon names appear. Measured on the 2-core machine (README, "Live"):
// latency p50 ~5 ms, p95 ~10 ms; display 29.9 fps of 29.97; detector
// ~6 fps (detect-every 5 at 29.97 fps).
func TestLiveHeadlessRealTime(t *testing.T) {
	dir := t.TempDir()
	events, report, record := filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "report.json"), filepath.Join(dir, "rec.mp4")
	code, _, stderr := runCLI(t, append([]string{"live", "--input", testenv.Data(t, "clips", "short_hamilton_clip.mp4"),
		"--known", testenv.Data(t, "known"), "--headless", "--events", events, "--report", report, "--record", record}, modelArgs(t)...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := readJSON[live.Report](t, report)
	t.Logf("report: %+v", *r)
	// Speed and latency bounds only catch a hang: they hold on a machine
	// loaded 10x over (measured there: 138 of 275 frames shown, 14.7 fps,
	// p95 374 ms, 9 detections; idle, README "Performance": every frame,
	// 29.97 fps, p95 12 ms). make bench gives the real figures.
	if r.FramesCaptured != 275 || r.FramesShown < 275/5 {
		t.Errorf("captured %d, shown %d of 275 frames", r.FramesCaptured, r.FramesShown)
	}
	if r.DisplayFPS < r.SourceFPS/5 {
		t.Errorf("display %.1f fps, want >= %.2f / 5", r.DisplayFPS, r.SourceFPS)
	}
	if r.LatencyMS.P95 > 2000 {
		t.Errorf("latency p95 %.0f ms, want <= 2000 (a hang)", r.LatencyMS.P95)
	}
	// The schedule picks the keyframes (detect-every 5, and cuts): each one
	// offered to the detector is detected or dropped for a newer one.
	if r.Detections < 5 || r.Keyframes < r.FramesShown/5 || r.FramesDropped != r.Keyframes-r.Detections-leftInMailbox(r) {
		t.Errorf("detections %d, dropped %d of %d keyframes (%d captured)", r.Detections, r.FramesDropped, r.Keyframes, r.FramesCaptured)
	}
	if r.People["Lin-Manuel Miranda"] < 1 {
		t.Errorf("Lin-Manuel Miranda on screen %.1f s, want several seconds", r.People["Lin-Manuel Miranda"])
	}
	// He is on screen from frame 0 to the end (on stage, then in close-up
	// after the cut at frame 82): one appearance, so one enter, and one
	// leave, however often the detector misses him or his track is
	// replaced (issue 14). Idle, he is named within 0.5 s; the bound is 5x
	// that (loaded: 1.1 s).
	evs := readEvents(t, events)
	var enters, leaves []float64
	for _, e := range evs {
		if e.Label == "Lin-Manuel Miranda" && e.Event == "enter" {
			enters = append(enters, e.Time)
		}
		if e.Label == "Lin-Manuel Miranda" && e.Event == "leave" {
			leaves = append(leaves, e.Time)
		}
	}
	const soon = 2.5 // s
	if len(enters) != 1 || enters[0] > soon || len(leaves) != 1 {
		t.Errorf("Lin-Manuel Miranda entered at %v s and left at %v s, want once, within %v s of 0", enters, leaves, soon)
	}
	// The recording holds every shown frame, as H.264 MP4.
	info, err := media.Probe(t.Context(), record)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := media.CountFrames(t.Context(), record); info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || n != r.FramesShown {
		t.Errorf("recording: %s %s with %d frames, want h264 yuv420p with %d", info.VideoCodec, info.PixFmt, n, r.FramesShown)
	}
	// Every enter has its leave.
	open := map[int]bool{}
	for _, e := range evs {
		open[e.Track] = e.Event == "enter"
	}
	for id, o := range open {
		if o {
			t.Errorf("track %d entered and never left", id)
		}
	}
}

// leftInMailbox: the last keyframe put in the detector's mailbox may still
// be waiting when the source ends (it is released, neither dropped nor
// detected).
func leftInMailbox(r *live.Report) int {
	if r.Keyframes-r.Detections-r.FramesDropped == 1 {
		return 1
	}
	return 0
}

func TestLiveMissingCamera(t *testing.T) {
	code, _, stderr := runCLI(t, append([]string{"live", "--camera", "7", "--headless"}, modelArgs(t)...)...)
	if code != exitFailure || !strings.Contains(lastLine(stderr), "camera 7: cannot open it (no such device, or busy)") {
		t.Errorf("exit %d, last line %q", code, lastLine(stderr))
	}
}

// TestLiveRejectsLookahead: live cannot look ahead, and its recording has
// no subtitles, so a look-ahead or subtitles from the command line, the
// environment or a config file's top level is a usage error (one line
// naming it, exit 2) before anything starts, not a setting silently
// ignored; an annotate: section is left to annotate, and an environment
// that asks for nothing (0s, false) is let through.
func TestLiveRejectsLookahead(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []struct{ key, on, off, flag string }{
		{"lookahead", "2s", "0s", "500ms"},
		{"subtitles", "true", "false", "true"},
	} {
		top, section := filepath.Join(dir, s.key+"-top.yaml"), filepath.Join(dir, s.key+"-section.yaml")
		os.WriteFile(top, []byte(s.key+": "+s.on+"\n"), 0o644)
		os.WriteFile(section, []byte("annotate:\n  "+s.key+": "+s.on+"\n"), 0o644)
		env := "VIDTAG_" + strings.ToUpper(s.key)
		tests := []struct {
			name string
			args []string
			env  string
			code int
		}{
			{"flag", []string{"--" + s.key + "=" + s.flag}, "", exitUsage},
			{"environment", nil, s.on, exitUsage},
			{"config file", []string{"--config", top}, "", exitUsage},
			{"annotate's section", []string{"--config", section}, "", exitFailure},
			{"environment, " + s.off, nil, s.off, exitFailure},
		}
		for _, tt := range tests {
			t.Run(s.key+"/"+tt.name, func(t *testing.T) {
				if tt.env != "" {
					t.Setenv(env, tt.env)
				}
				// Camera 7 does not exist: past the settings, the run fails (exit 1).
				code, _, stderr := runCLI(t, append(append([]string{"live", "--camera", "7", "--headless"}, tt.args...), modelArgs(t)...)...)
				named := strings.Contains(strings.ToLower(stderr), s.key)
				if code != tt.code || tt.code == exitUsage && (strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !named) ||
					tt.code != exitUsage && named {
					t.Errorf("exit %d, stderr %q; want exit %d", code, stderr, tt.code)
				}
			})
		}
	}
}

// rss is a process's resident memory in kB.
func rss(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// TestLiveLoopStaysBounded plays the clip in a loop for 60 s: memory stays
// flat (every queue is bounded and frames are recycled) and the display
// keeps pace.
func TestLiveLoopStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s")
	}
	bin := buildVidtag(t)
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, "live", "--input", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "--loop", "--headless",
		"--known", testenv.Data(t, "known"), "--models", testenv.Models(t), "--report", report, "--log-level", "warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var samples []int
	for i := 0; i < 12; i++ {
		time.Sleep(5 * time.Second)
		samples = append(samples, rss(cmd.Process.Pid))
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want %d", code, exitInterrupted)
	}
	t.Logf("RSS every 5 s (kB): %v", samples)
	// After warm-up (the second engine, buffers), memory must not grow.
	if grow := samples[len(samples)-1] - samples[2]; grow > 30_000 {
		t.Errorf("RSS grew by %d kB between 15 s and 60 s: %v", grow, samples)
	}
	r := readJSON[live.Report](t, report)
	t.Logf("report: %+v", *r)
	// Hang bounds only (idle: 30.06 fps, p95 7.8 ms, README); make bench
	// gives the real figures.
	if r.FramesCaptured < 55*29/5 || r.DisplayFPS < r.SourceFPS/5 || r.LatencyMS.P95 > 2000 {
		t.Errorf("over 60 s: captured %d, display %.1f fps, p95 %.0f ms", r.FramesCaptured, r.DisplayFPS, r.LatencyMS.P95)
	}
	if r.FramesLate > r.FramesCaptured*4/5 {
		t.Errorf("%d frames not shown", r.FramesLate)
	}
}

// freeDisplay finds an X display number nobody uses.
func freeDisplay() string {
	for n := 90; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); os.IsNotExist(err) {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
				return ":" + strconv.Itoa(n)
			}
		}
	}
	return ":199"
}

// TestLiveWindow opens the real window under Xvfb: it appears with its
// title, a screenshot shows a labelled box in the known-face colour, and q
// quits with exit code 0.
func TestLiveWindow(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		_, err := exec.LookPath(tool)
		testenv.Require(t, err == nil, tool+" is needed (scripts/setup.sh --test installs it)")
	}
	display := freeDisplay()
	xvfb := exec.Command("Xvfb", display, "-screen", "0", "1024x768x24", "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { xvfb.Process.Kill(); xvfb.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat("/tmp/.X11-unix/X" + display[1:]); err == nil {
			break
		}
	}
	bin := buildVidtag(t)
	dir := t.TempDir()
	input := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	cmd := exec.Command(bin, "live", "--input", input, "--loop", "--known", testenv.Data(t, "known"),
		"--models", testenv.Models(t), "--report", filepath.Join(dir, "report.json"), "--snapshots", dir, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	x := func(args ...string) string {
		c := exec.Command(args[0], args[1:]...)
		c.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := c.Output()
		return strings.TrimSpace(string(out))
	}
	var wid string
	for deadline := time.Now().Add(30 * time.Second); wid == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ids := strings.Fields(x("xdotool", "search", "--name", "^vidtag — ")); len(ids) > 0 {
			wid = ids[0]
		}
	}
	if wid == "" {
		t.Fatalf("no window appeared; stderr: %s", stderr.String())
	}
	if title := x("xdotool", "getwindowname", wid); title != "vidtag — "+input {
		t.Errorf("window title %q", title)
	}
	// Lin-Manuel Miranda's close-up runs from 2.7 s to 7 s of the clip.
	time.Sleep(4500 * time.Millisecond)
	shot := filepath.Join(dir, "screen.png")
	x("import", "-window", wid, shot)
	green := countColour(t, shot, stages.KnownColour.R, stages.KnownColour.G, stages.KnownColour.B)
	if green < 200 {
		t.Errorf("the screenshot has %d pixels of the known-face colour: no labelled box", green)
	}
	x("xdotool", "key", "--window", wid, "s") // a snapshot
	time.Sleep(300 * time.Millisecond)
	x("xdotool", "key", "--window", wid, "q")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("q did not quit")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("exit %d after q; stderr: %s", code, stderr.String())
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "vidtag-*.png"))
	if len(snaps) != 1 {
		t.Errorf("snapshots: %v", snaps)
	}
	if r := readJSON[live.Report](t, filepath.Join(dir, "report.json")); r.FramesShown < 100 {
		t.Errorf("report: %+v", *r)
	}
}

// countColour counts the pixels of a PNG within 12 of an RGB colour.
func countColour(t *testing.T, path string, r, g, b uint8) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d > -12 && d < 12 }
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr, r) && near(pg, g) && near(pb, b) {
				n++
			}
		}
	}
	return n
}

// TestLiveStreamReconnects reads the clip from an HTTP URL whose first
// connection breaks half-way, with the server then down for a while: the
// session says the stream was lost, reconnects with back-off, says it is
// back, and goes on.
func TestLiveStreamReconnects(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	ffmpeg(t, "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-c", "copy", "-movflags", "+faststart", clip)
	b, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	state := "cut" // the first request is cut half-way; then "down", then "up"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st := state
		if st == "cut" {
			state = "down"
		}
		mu.Unlock()
		switch st {
		case "cut":
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Write(b[:len(b)/2])
			if hj, ok := w.(http.Hijacker); ok {
				c, _, _ := hj.Hijack()
				c.Close()
			}
		case "down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		default:
			http.ServeContent(w, r, "clip.mp4", time.Time{}, bytes.NewReader(b))
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	bin := buildVidtag(t)
	cmd := exec.Command(bin, "live", "--input", "http://"+ln.Addr().String()+"/clip.mp4", "--headless", "--known", testenv.Data(t, "known"),
		"--models", testenv.Models(t), "--log-level", "info")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(stderr.String(), what) {
				return
			}
		}
		t.Fatalf("no %q in the log:\n%s", what, stderr.String())
	}
	waitFor("source lost; reconnecting")
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	state = "up"
	mu.Unlock()
	waitFor("source back")
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d after Ctrl-C, want %d", code, exitInterrupted)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
