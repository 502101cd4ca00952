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
	"os"
	"runtime"
)

// OpenCV's window functions must run on the main OS thread (gocv issue 599),
// so main keeps it and the pipelines run in goroutines.
func init() { runtime.LockOSThread() }

func main() {
	os.Exit(Main(os.Args, os.Stdout, os.Stderr))
}
