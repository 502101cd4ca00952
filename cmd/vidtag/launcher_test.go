package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/vidtag/vidtag/internal/testenv"
)

// The installed vidtag is a launcher (cmd/vidtag-launcher) in front of
// vidtag-core. These tests run the pair as a user does.

// TestLauncherExitCodes: the core's exit code comes through unchanged, and
// a launcher without its core says so in one line.
func TestLauncherExitCodes(t *testing.T) {
	bin := buildVidtag(t)
	lone := filepath.Join(t.TempDir(), "vidtag")
	if b, err := os.ReadFile(bin); err != nil || os.WriteFile(lone, b, 0o755) != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, bin string
		args      []string
		code      int
		stderr    string
	}{
		{"version", bin, []string{"--version"}, exitOK, ""},
		{"usage", bin, []string{"annotate"}, exitUsage, "vidtag:"},
		{"missing input", bin, []string{"annotate", "/no/such.mp4", "-o", filepath.Join(t.TempDir(), "o.mp4")}, exitFailure, "/no/such.mp4"},
		{"no core", lone, []string{"--version"}, exitFailure, "vidtag-core: not found beside the launcher"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.bin, c.args...)
			cmd.Env = append(os.Environ(), "VIDTAG_MODELS="+testenv.Models(t))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), c.code, c.stderr)
			}
			if c.stderr != "" {
				oneStderrLine(t, stderr.String())
			}
		})
	}
}

// TestSignalWhileLoading sends SIGTERM to vidtag's process group at moments
// spread over its first 0.6 s, while the core's dynamic loader links
// OpenCV, dlib and GStreamer and its models load: every run ends with exit
// 130 and one line, never by the signal, and writes nothing.
func TestSignalWhileLoading(t *testing.T) {
	bin := buildVidtag(t)
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	const runs = 10
	for i := 0; i < runs; i++ {
		at := time.Duration(i) * 600 * time.Millisecond / runs
		t.Run(at.String(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.mp4")
			cmd := exec.Command(bin, "annotate", clip, "-o", out, "--models", testenv.Models(t), "--known", testenv.Data(t, "known"), "--log-level", "warn")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, as a shell job
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitLauncher(cmd.Process.Pid)
			time.Sleep(at)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			waitOrKill(t, cmd)
			if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() {
				t.Fatalf("killed by %v", ws.Signal())
			}
			l := oneStderrLine(t, stderr.String())
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(l, "interrupted") {
				t.Errorf("exit %d, %q", code, l)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left %v", names)
			}
		})
	}
}

// TestTerminalCtrlCAndCtrlZ runs vidtag on a pseudo-terminal, where it is
// the foreground job: a Ctrl-C while the core loads reaches the launcher
// and is passed on once (exit 130, one line); a Ctrl-Z mid-run stops the
// job (the launcher and the core) and a SIGCONT resumes both to the end.
func TestTerminalCtrlCAndCtrlZ(t *testing.T) {
	bin := buildVidtag(t)
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	start := func(t *testing.T, out string) (*exec.Cmd, *os.File, *bytes.Buffer, chan struct{}) {
		cmd := exec.Command(bin, "annotate", clip, "-o", out, "--models", testenv.Models(t), "--known", testenv.Data(t, "known"))
		ptmx, err := pty.Start(cmd) // a new session; the terminal is its controlling one
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		var screen bytes.Buffer
		read := make(chan struct{})
		go func() {
			io.Copy(&screen, ptmx)
			close(read)
		}()
		waitLauncher(cmd.Process.Pid)
		return cmd, ptmx, &screen, read
	}

	t.Run("ctrl-c while loading", func(t *testing.T) {
		dir := t.TempDir()
		cmd, ptmx, screen, read := start(t, filepath.Join(dir, "out.mp4"))
		ptmx.Write([]byte{3}) // ^C: the terminal sends SIGINT to its foreground group
		waitOrKill(t, cmd)
		ptmx.Close()
		<-read
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || strings.Count(screen.String(), "interrupted") != 1 {
			t.Errorf("exit %d, terminal %q", code, screen.String())
		}
		if names := listDir(t, dir); len(names) != 0 {
			t.Errorf("left %v", names)
		}
	})

	t.Run("ctrl-z then continue", func(t *testing.T) {
		dir := t.TempDir()
		cmd, ptmx, screen, read := start(t, filepath.Join(dir, "out.mp4"))
		time.Sleep(time.Second)
		ptmx.Write([]byte{26}) // ^Z
		deadline := time.Now().Add(20 * time.Second)
		for procState(cmd.Process.Pid) != "T" {
			if time.Now().After(deadline) {
				t.Fatalf("the launcher did not stop after ^Z (state %q)", procState(cmd.Process.Pid))
			}
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Kill(cmd.Process.Pid, syscall.SIGCONT) // what the shell's fg does
		waitOrKill(t, cmd)
		ptmx.Close()
		<-read
		if code := cmd.ProcessState.ExitCode(); code != exitOK {
			t.Errorf("exit %d after ^Z and continue, terminal %q", code, screen.String())
		}
		if _, err := os.Stat(filepath.Join(dir, "out.mp4")); err != nil {
			t.Error(err)
		}
	})
}

// waitLauncher returns once the launcher has started the core. Before that,
// for about a millisecond, the launcher's own Go runtime is starting and a
// signal would still kill it (README, "Signals"); Go's handler is in place
// (SigCgt) slightly before the program asks for the signal, so this waits
// for the core instead: by then the launcher catches everything.
func waitLauncher(pid int) {
	for deadline := time.Now().Add(10 * time.Second); childNamed(pid, "vidtag-core") == 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Microsecond)
	}
}

// killHard kills vidtag with SIGKILL, as a pod's end or kill -9 does, and
// returns once the core is gone too (the kernel kills it when the launcher
// dies; its locks go with it).
func killHard(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	core := childNamed(cmd.Process.Pid, "vidtag-core")
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for deadline := time.Now().Add(30 * time.Second); core > 0 && !released(core); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("vidtag-core (pid %d) outlived its launcher's SIGKILL", core)
		}
	}
}

// released reports whether a process has closed its files (its locks go
// with them): it is gone, or a zombie with no thread left. A zombie
// leader's other threads can still hold the files for a while.
func released(pid int) bool {
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	return err != nil || (len(tasks) <= 1 && procState(pid) == "Z")
}

// procState is the state letter in /proc/PID/stat (R, S, T for stopped...).
func procState(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i > 0 && len(s) > i+2 {
		return s[i+2 : i+3]
	}
	return ""
}

// waitOrKill waits for cmd, killing its group if it hangs.
func waitOrKill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		t.Fatal("hung")
	}
}

// TestForcedStop: a stop that takes longer than VIDTAG_STOP_TIMEOUT after
// the first signal, or a second signal, is not waited for: vidtag writes
// the goroutine stacks, removes its temporary files and exits 130 with a
// last line that says why.
func TestForcedStop(t *testing.T) {
	bin := buildVidtag(t)
	clip := testenv.Data(t, "clips", "short_hamilton_clip.mp4")
	for _, c := range []struct {
		name, timeout string
		signals       int
		want          string
	}{
		{"deadline", "1ms", 1, "did not stop within 1ms of SIGTERM; stopped at once, partial outputs removed"},
		{"second signal", "", 2, "interrupted twice; stopped at once, partial outputs removed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, "annotate", clip, "-o", filepath.Join(dir, "out.mp4"), "--models", testenv.Models(t), "--known", testenv.Data(t, "known"))
			cmd.Env = append(os.Environ(), "VIDTAG_STOP_TIMEOUT="+c.timeout)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Once the video is being written: there is a temporary file
			// to remove.
			for deadline := time.Now().Add(time.Minute); len(listDir(t, dir)) == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no output started")
				}
			}
			// Two different signals: two of the same, sent at once, may
			// arrive as one.
			for _, s := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[:c.signals] {
				syscall.Kill(-cmd.Process.Pid, s)
			}
			waitOrKill(t, cmd)
			out := stderr.String()
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(out, "goroutine ") || !strings.HasSuffix(strings.TrimSpace(out), c.want) {
				t.Errorf("exit %d, stderr ends %q; want 130, goroutine stacks and %q", code, tail(out, 300), c.want)
			}
			if names := listDir(t, dir); len(names) != 0 {
				t.Errorf("left %v", names)
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
