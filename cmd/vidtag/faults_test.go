package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/media"
)

// faultRuns is how many faulty runs TestFaults makes: 10 in make test,
// VIDTAG_FAULT_RUNS (30 in make test-faults) otherwise.
func faultRuns(t *testing.T) int {
	if s := os.Getenv("VIDTAG_FAULT_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("VIDTAG_FAULT_RUNS=%q", s)
		}
		return n
	}
	return 10
}

// TestFaults runs annotate on a small clip and breaks it at random
// moments: SIGTERM to its process group, its ffmpeg killed, or a tmpfs
// that fills while ffmpeg writes the file's trailer (root only: mount).
// Whatever happens, nothing broken is left under a final name, no
// temporary file is left, the exit code is the documented one for what
// happened, and a failure says one line.
func TestFaults(t *testing.T) {
	bin := buildVidtag(t)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	// 1.5 s of Lin-Manuel Miranda, 320x180, with audio.
	ffmpeg(t, "-ss", "3", "-t", "1.5", "-i", testenv.Data(t, "clips", "short_hamilton_clip.mp4"), "-vf", "scale=320:180",
		"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", clip)
	known := testenv.Data(t, "known")
	args := func(out string) []string {
		return []string{"annotate", clip, "-o", out, "--report", strings.TrimSuffix(out, ".mp4") + ".report.json",
			"--known", known, "--models", testenv.Models(t), "--log-level", "warn"}
	}

	// A clean run: how long it takes and how big its outputs are.
	ref := t.TempDir()
	start := time.Now()
	if out, err := exec.Command(bin, args(filepath.Join(ref, "out.mp4"))...).CombinedOutput(); err != nil {
		t.Fatalf("clean run: %v\n%s", err, out)
	}
	took := time.Since(start)
	var size int64
	for _, e := range listDir(t, ref) {
		st, _ := os.Stat(filepath.Join(ref, e))
		size += st.Size()
	}
	frames, err := media.CountFrames(context.Background(), filepath.Join(ref, "out.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clean run %v, %d bytes of outputs, %d frames", took.Round(time.Millisecond), size, frames)

	tmpfsOK := canMount(t)
	kinds := []string{"sigterm", "disk-full-mid", "disk-full"}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("VIDTAG_FAULT_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (VIDTAG_FAULT_SEED to repeat)", seed)
	rng := rand.New(rand.NewPCG(seed, 14))
	outcomes := map[string]int{}
	for i := 0; i < faultRuns(t); i++ {
		kind := kinds[i%len(kinds)]
		if strings.HasPrefix(kind, "disk-full") && !tmpfsOK {
			// make test-faults insists; make test (CI as a user) does
			// the other faults instead.
			if os.Getenv("VIDTAG_FAULT_RUNS") != "" {
				t.Fatal("disk-full faults need root: mount -t tmpfs failed")
			}
			t.Log("cannot mount a tmpfs (not root): a SIGTERM fault instead of a full disk")
			kind = "sigterm"
		}
		t.Run(fmt.Sprintf("%02d-%s", i, kind), func(t *testing.T) {
			dir := t.TempDir()
			var at time.Duration
			switch kind {
			case "disk-full":
				// Room for everything but the last part of the video: the
				// muxer runs out while it writes the index (moov) and
				// moves it to the front (+faststart).
				short := 1024 + rng.Int64N(24*1024)
				mountTmpfs(t, dir, size-short)
				t.Logf("tmpfs %d bytes short", short)
			case "sigterm": // half of them while the core loads
				at = time.Duration(rng.Int64N(int64(took + took/4)))
				if rng.IntN(2) == 0 {
					at = time.Duration(rng.Int64N(int64(600 * time.Millisecond)))
				}
				t.Logf("at %v", at.Round(time.Millisecond))
			case "disk-full-mid":
				// Room for 20-80% of the outputs: the encoder's writes fail
				// mid-run (what an encoder dying mid-run looks like, now
				// that x264 runs in the process).
				room := size/5 + rng.Int64N(size*3/5)
				mountTmpfs(t, dir, room)
				t.Logf("tmpfs of %d of the %d bytes", room, size)
			}
			out := filepath.Join(dir, "out.mp4")
			cmd := exec.Command(bin, args(out)...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a shell job
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() {
				cmd.Wait()
				close(done)
			}()
			// Moments count from when the launcher has started the core
			// (before that, for about a millisecond, its own Go runtime is
			// starting; README, "Signals"): the core's loading is within them.
			waitLauncher(cmd.Process.Pid)
			fault := "none"
			if strings.HasPrefix(kind, "disk-full") {
				fault = "disk full"
			}
			if kind == "sigterm" {
				select {
				case <-done:
				case <-time.After(at):
					syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
					fault = "sigterm"
				}
			}
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatal("hung")
			}
			code := cmd.ProcessState.ExitCode()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				t.Errorf("killed by %v: a signal must not kill vidtag", ws.Signal())
			}
			outcomes[fmt.Sprintf("%s: exit %d", fault, code)]++
			checkOutcome(t, dir, code, stderr.String(), frames)
			switch {
			case fault == "sigterm" && code != exitInterrupted && code != exitOK:
				t.Errorf("exit %d after SIGTERM, want %d (or 0 if it had finished)", code, exitInterrupted)
			case fault == "disk full" && code != exitFailure:
				t.Errorf("exit %d on a full disk, want %d", code, exitFailure)
			}
		})
	}
	t.Logf("outcomes: %v", outcomes)
}

// checkOutcome: exit 0 means every output is there and whole; any other
// exit means one line on stderr and nothing under a final name; either
// way no temporary file is left.
func checkOutcome(t *testing.T, dir string, code int, stderr string, frames int) {
	t.Helper()
	names := listDir(t, dir)
	var finals []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") {
			t.Errorf("temporary file left: %s", n)
			continue
		}
		finals = append(finals, n)
	}
	if code == exitOK {
		// The video, sidecar and report, and the people step's file,
		// subtitles, page and face crops.
		if want := []string{"out.faces", "out.html", "out.jsonl", "out.mp4", "out.people.json", "out.report.json", "out.vtt"}; !slices.Equal(finals, want) {
			t.Errorf("exit 0 but outputs %v, want %v", finals, want)
		}
		n, err := media.CountFrames(context.Background(), filepath.Join(dir, "out.mp4"))
		if err != nil || n != frames {
			t.Errorf("exit 0 but the video has %d frames (%v), want %d", n, err, frames)
		}
		checkSidecarFrames(t, filepath.Join(dir, "out.jsonl"), frames)
		return
	}
	if len(finals) != 0 {
		t.Errorf("exit %d but left %v under final names", code, finals)
		for _, f := range finals {
			if strings.HasSuffix(f, ".mp4") {
				if _, err := media.Probe(context.Background(), filepath.Join(dir, f)); err != nil {
					t.Errorf("and %s is broken: %v", f, err)
				}
			}
		}
	}
	if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; n != 1 {
		t.Errorf("exit %d with %d lines on stderr, want one:\n%s", code, n, stderr)
	}
	t.Logf("exit %d: %s", code, strings.TrimSpace(stderr))
}

// childNamed is the pid of a descendant of pid running name, or 0 (the
// launcher's child is vidtag-core, whose child is ffmpeg).
func childNamed(pid int, name string) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if strings.TrimSpace(string(comm)) == name {
				return n
			}
			if d := childNamed(n, name); d > 0 {
				return d
			}
		}
	}
	return 0
}

// canMount reports whether tmpfs can be mounted here (root, no sandbox).
func canMount(t *testing.T) bool {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).Run(); err != nil {
		return false
	}
	exec.Command("umount", dir).Run()
	return true
}

// mountTmpfs mounts a tmpfs of size bytes (rounded up to pages) on dir
// until the test ends.
func mountTmpfs(t *testing.T, dir string, size int64) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}
