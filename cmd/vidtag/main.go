// Command vidtag finds every face in a video, names the people it knows and
// writes the result: an annotated MP4 with a per-frame sidecar (annotate), a
// live window on a webcam or stream (live), or a resumable run over a folder
// of videos (batch).
//
//	vidtag annotate clip.mp4 -o tagged.mp4 --known faces/
//
// Exit codes: 0 ok, 1 failure, 2 usage error, 130 interrupted.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	// First: catch SIGINT and SIGTERM before anything else starts; and
	// keep OpenCV's and GStreamer's own logging off stderr.
	_ "github.com/vidtag/vidtag/internal/cvquiet"
	_ "github.com/vidtag/vidtag/internal/earlysig"
)

// OpenCV's window functions must run on the main OS thread (gocv issue 599),
// so main keeps it and the pipelines run in goroutines.
func init() { runtime.LockOSThread() }

func main() {
	stop := profileCPU(os.Getenv("VIDTAG_CPUPROFILE"))
	code := Main(os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// profileCPU writes a Go CPU profile to path, when set, until stop is
// called: VIDTAG_CPUPROFILE=cpu.out vidtag annotate ...; go tool pprof
// bin/vidtag-core cpu.out. Time inside dlib, OpenCV and ffmpeg shows up as cgo
// calls (and ffmpeg not at all: it is a separate process).
func profileCPU(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vidtag: cpu profile: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
