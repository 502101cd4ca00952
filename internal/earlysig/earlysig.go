// Package earlysig catches SIGINT and SIGTERM from the moment the Go
// runtime starts the program's packages, so a signal in the first
// fraction of a second (while cgo libraries and models load) is not
// fatal: the command sees it as soon as it asks, and exits its own way.
//
// Import it first in package main (blank import). It has no dependencies
// beyond the standard library, so it is initialised before the packages
// that need time (Go initialises packages in import-path order once their
// dependencies are done).
//
// Before Go code runs at all, the dynamic loader links OpenCV, dlib and
// GStreamer, and a signal then would kill the process. The installed
// vidtag is therefore a small launcher (cmd/vidtag-launcher) that holds
// signals until this package says, through the pipe named by
// VIDTAG_READY_FD, that they are caught.
package earlysig

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

// ReadyFD names the file descriptor the launcher reads "caught" from.
const ReadyFD = "VIDTAG_READY_FD"

var ch = make(chan os.Signal, 4)

func init() {
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	tellLauncher()
}

// tellLauncher writes one byte to the launcher's pipe and closes it, so
// that neither ffmpeg nor anything else vidtag starts inherits it.
func tellLauncher() {
	v, ok := os.LookupEnv(ReadyFD)
	if !ok {
		return
	}
	os.Unsetenv(ReadyFD)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	syscall.Write(fd, []byte{1})
	syscall.Close(fd)
}

// Signals delivers SIGINT and SIGTERM received since the program started.
func Signals() <-chan os.Signal { return ch }
