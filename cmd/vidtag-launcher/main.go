// Command vidtag-launcher is what is installed as vidtag. It runs the real
// program, vidtag-core, and makes a SIGINT or SIGTERM at any moment end it
// the documented way (exit 130, one line saying what was kept).
//
// vidtag-core links OpenCV, dlib and GStreamer. Before any of its Go code
// runs, the dynamic loader spends 0.1 s of CPU (far more on a loaded
// machine) linking them, and a signal then kills the process by the
// kernel's default: exit 143, no message. The launcher is pure Go (built
// with CGO_ENABLED=0), so it catches signals within microseconds of
// starting, then:
//
//   - runs vidtag-core in its own process group, and holds every signal
//     until the core says (one byte on a pipe, from package earlysig) that
//     it catches them itself, then forwards each one, once;
//   - on a terminal, keeps the foreground until then, so a Ctrl-C during
//     the loader comes here, not to the core; then hands the foreground to
//     the core, as a shell gives it to a job, and takes it back when the
//     core stops (Ctrl-Z) or ends;
//   - exits with the core's exit code, or dies by the signal that killed it.
//
// This is how sudo runs a command in its own process group and relays
// signals to it.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	// First: catches SIGINT and SIGTERM before the other packages
	// initialise (the launcher's own start takes milliseconds).
	"github.com/vidtag/vidtag/internal/earlysig"
	"github.com/vidtag/vidtag/internal/launchenv"
)

// relayed are the signals passed on to the core, besides SIGINT and
// SIGTERM (earlysig's).
var relayed = []os.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

var sigs = make(chan os.Signal, 16)

func init() { signal.Notify(sigs, relayed...) }

// readyFD is the environment variable package earlysig reads; the pipe is
// the child's fd 3 (its first ExtraFiles entry).
const readyFD = "VIDTAG_READY_FD"

func main() {
	// Pdeathsig goes with the thread that started the child: keep it.
	runtime.LockOSThread()
	os.Exit(run())
}

func run() int {
	go func() {
		for s := range earlysig.Signals() {
			sigs <- s
		}
	}()
	core, err := corePath()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vidtag: %v\n", err)
		return 1
	}
	ready, readyW, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vidtag: %v\n", err)
		return 1
	}
	tty, fg := foregroundTTY()
	p, err := os.StartProcess(core, append([]string{os.Args[0]}, os.Args[1:]...), &os.ProcAttr{
		Env:   coreEnv(os.Environ()),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, readyW},
		Sys: &syscall.SysProcAttr{
			Setpgid:   true,            // signals reach it only through here
			Pdeathsig: syscall.SIGKILL, // kill -9 of vidtag kills all of it, as for one process
		},
	})
	readyW.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vidtag: %v\n", err)
		return 1
	}
	// Taking the foreground back from the background group needs SIGTTOU
	// ignored; set only now, so the core does not inherit it.
	signal.Ignore(syscall.SIGTTOU)

	caught := make(chan struct{})
	go func() {
		b := make([]byte, 1)
		if n, _ := ready.Read(b); n == 1 {
			close(caught)
		}
		ready.Close()
	}()
	waited := make(chan unix.WaitStatus)
	go waitLoop(p.Pid, waited)

	var held []os.Signal
	isCaught := false
	for {
		select {
		case s := <-sigs:
			if !isCaught {
				held = append(held, s)
				continue
			}
			syscall.Kill(p.Pid, s.(syscall.Signal))
		case <-caught:
			caught, isCaught = nil, true
			if fg {
				unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, p.Pid)
			}
			for _, s := range held {
				syscall.Kill(p.Pid, s.(syscall.Signal))
			}
			held = nil
		case ws := <-waited:
			switch {
			case ws.Stopped():
				fg = suspend(tty, fg, p.Pid)
				waited = make(chan unix.WaitStatus)
				go waitLoop(p.Pid, waited)
			case ws.Signaled():
				if fg {
					unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
				}
				dieBy(ws.Signal())
				return 128 + int(ws.Signal())
			default:
				if fg {
					unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
				}
				return ws.ExitStatus()
			}
		}
	}
}

// waitLoop reports the core's next stop or its end.
func waitLoop(pid int, out chan<- unix.WaitStatus) {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // cannot happen for our own child; end as killed
			ws = unix.WaitStatus(syscall.SIGKILL)
		}
		out <- ws
		return
	}
}

// suspend follows the core's Ctrl-Z: the launcher takes the terminal back
// and stops too, so the shell sees the job stopped. When the shell
// continues it (fg or bg), the core continues, in the foreground only if
// the launcher was given it. It returns whether the core has it.
func suspend(tty int, fg bool, pid int) bool {
	if fg {
		unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
	}
	syscall.Kill(os.Getpid(), syscall.SIGSTOP) // returns after SIGCONT
	tty, fg = foregroundTTY()
	if fg {
		unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, pid)
	}
	syscall.Kill(-pid, syscall.SIGCONT)
	return fg
}

// dieBy ends the launcher by the signal that ended the core, so a shell
// reports the same thing ("Killed", "Segmentation fault"); exiting with
// 128+n is the fallback.
func dieBy(s syscall.Signal) {
	signal.Reset(s)
	signal.Reset(syscall.SIGTTOU)
	syscall.Kill(os.Getpid(), s)
}

// foregroundTTY returns a terminal among stdin, stdout and stderr whose
// foreground process group is the launcher's, if there is one.
func foregroundTTY() (fd int, ok bool) {
	for fd := 0; fd <= 2; fd++ {
		pg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		if err == nil && pg == unix.Getpgrp() {
			return fd, true
		}
	}
	return -1, false
}

// coreEnv is the launcher's environment for the core (launchenv.Core) and
// the ready pipe's descriptor.
func coreEnv(env []string) []string { return append(launchenv.Core(env), readyFD+"=3") }

// corePath is $VIDTAG_CORE, or vidtag-core beside the launcher.
func corePath() (string, error) {
	if p := os.Getenv("VIDTAG_CORE"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(self), "vidtag-core")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: not found beside the launcher %s (install both, or set VIDTAG_CORE)", p, self)
	}
	return p, nil
}
