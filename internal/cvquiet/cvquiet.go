// Package cvquiet keeps OpenCV and GStreamer from writing on stderr:
// vidtag says one line about a problem itself (a missing camera was three
// lines, two of them OpenCV's [ WARN:0@...]). OpenCV reads OPENCV_LOG_LEVEL
// while its library loads, before any Go code runs, so setting it from Go
// is too late: its log level is set through its API instead. GStreamer
// reads GST_DEBUG when OpenCV first starts it, after this runs. A setting
// the user made in the environment wins.
package cvquiet

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include "cvquiet.h"
*/
import "C"

import "os"

func init() {
	if _, set := os.LookupEnv("OPENCV_LOG_LEVEL"); !set {
		C.cvquiet_silence()
		os.Setenv("OPENCV_LOG_LEVEL", "SILENT") // for libraries that read it later
	}
	for k, v := range map[string]string{"OPENCV_VIDEOIO_DEBUG": "0", "OPENCV_FFMPEG_DEBUG": "0", "GST_DEBUG": "0"} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}
