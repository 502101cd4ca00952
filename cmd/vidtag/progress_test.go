package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vidtag/vidtag/internal/testenv"
)

// runOnTerminal runs vidtag in-process with its stderr on a pseudo-terminal
// (what a user's shell gives it) and returns the exit code and everything
// drawn on that terminal.
func runOnTerminal(t *testing.T, args ...string) (code int, drawn string, took time.Duration) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&screen, ptmx) // ends with EIO once the terminal side is closed
		close(read)
	}()
	var stdout bytes.Buffer
	start := time.Now()
	code = run(context.Background(), append([]string{"vidtag"}, args...), &stdout, tty)
	took = time.Since(start)
	tty.Close()
	<-read
	return code, screen.String(), took
}

// redraws counts how often a bar was drawn: each draw starts with a
// carriage return and the bar's description.
func redraws(screen, what string) int {
	return len(regexp.MustCompile(`\r`+regexp.QuoteMeta(what)).FindAllStringIndex(screen, -1))
}

// TestProgressOnTerminal runs annotate and batch with a terminal for
// stderr and reads what they drew: annotate's bar shows frames of the total
// and fps; batch's shows videos and frames and is throttled, not redrawn
// per frame.
func TestProgressOnTerminal(t *testing.T) {
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	known := testenv.Data(t, "known")
	dir := t.TempDir()

	t.Run("annotate", func(t *testing.T) {
		args := append([]string{"annotate", clip, "-o", filepath.Join(dir, "a.mp4"), "--known", known, "--detect-every", "60"}, modelArgs(t)...)
		code, screen, took := runOnTerminal(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d:\n%q", code, screen)
		}
		if n := redraws(screen, "annotate"); n < 1 || !regexp.MustCompile(`\(\d+/275, \d+ frames/s\)`).MatchString(screen) {
			t.Fatalf("no annotate bar drawn (%d draws); the terminal got:\n%q", n, screen)
		}
		n := redraws(screen, "annotate")
		// Throttled: at most one draw per progressEvery, plus the first and last.
		if limit := int(took/progressEvery) + 3; n > limit {
			t.Errorf("%d draws in %v: more than one per %v", n, took, progressEvery)
		}
		t.Logf("annotate: %d draws, %d bytes on the terminal in %v", n, len(screen), took)
	})

	t.Run("batch", func(t *testing.T) {
		in := filepath.Join(dir, "in")
		os.MkdirAll(in, 0o755)
		for _, name := range []string{"one.mp4", "two.mp4"} {
			ffmpeg(t, "-i", clip, "-frames:v", "90", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", filepath.Join(in, name))
		}
		args := append([]string{"batch", in, "-o", filepath.Join(dir, "out"), "--known", known, "--jobs", "2", "--sidecar-only"}, modelArgs(t)...)
		code, screen, took := runOnTerminal(t, args...)
		if code != exitOK {
			t.Fatalf("exit %d:\n%q", code, screen)
		}
		draws := redraws(screen, "batch: ")
		if draws < 1 || !regexp.MustCompile(`batch: [0-2]/2 videos, \d+ frames`).MatchString(screen) {
			t.Fatalf("no batch bar with videos and frames; the terminal got:\n%q", screen)
		}
		// 180 frames: a bar drawn per frame would draw ~180 times.
		if limit := int(took/progressEvery) + 3; draws > limit || draws >= 180 {
			t.Errorf("%d draws in %v for 180 frames: not throttled to one per %v", draws, took, progressEvery)
		}
		t.Logf("batch: %d draws, %d bytes on the terminal in %v", draws, len(screen), took)
	})
}
