// Package cvlibs loads OpenCV's I/O modules (imgcodecs, videoio, highgui)
// when a command first needs them, instead of when vidtag-core starts.
//
// Those three modules bring in GStreamer, libdc1394, GDAL, GTK and 110 more
// libraries, and the dynamic loader resolving their symbols is most of the
// core's start-up: `vidtag-core --help` takes 0.20 s linked against them
// and 0.05 s without (this machine, 2 cores). annotate and batch use none
// of them (libavcodec decodes and encodes, the face thumbnails are Go's
// JPEG), so `make build` removes them from the binary's needed libraries
// (scripts/lazy-cv.sh) and the functions that do use them (a webcam,
// the live window, reading a known person's photo, the HOG path's JPEGs)
// call Need first. Need opens the modules into the global scope, where the
// lazily bound calls into them then find their symbols. In a binary that
// still lists them (go test, go run) Need finds them already loaded.
//
// A gocv call into these modules without Need first would end the process
// with "symbol lookup error"; TestIOCallsNeedFirst checks every call site.
// The patched binary relies on lazy binding (the default): with
// LD_BIND_NOW=1 in its environment it would not start.
package cvlibs

/*
#cgo LDFLAGS: -ldl
#cgo pkg-config: opencv4
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <opencv2/core/version.hpp>

// cvlibs_open opens libopencv_<module> under the names Debian (.so.406)
// and upstream OpenCV (.so.4.6) give it; NULL and *err set on failure.
static void* cvlibs_open(const char* module, char** err) {
	char name[128];
	const char* forms[] = {"libopencv_%s.so.%d%02d", "libopencv_%s.so.%d.%d"};
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof name, forms[i], module, CV_VERSION_MAJOR, CV_VERSION_MINOR);
		void* h = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
		if (h != NULL) return h;
		*err = dlerror();
	}
	return NULL;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Module is one of OpenCV's I/O modules.
type Module string

// The modules. Each is loaded on its own: highgui does not bring the
// other two (videoio does bring imgcodecs), so ask for every one a call
// uses.
const (
	Imgcodecs Module = "imgcodecs" // image files and JPEG in memory
	Videoio   Module = "videoio"   // cv::VideoCapture: webcams, streams
	Highgui   Module = "highgui"   // windows
)

var loads sync.Map // Module -> func() error (a sync.OnceValue)

// Need loads the modules, once each, and reports the first that cannot be
// loaded.
func Need(mods ...Module) error {
	for _, m := range mods {
		once, _ := loads.LoadOrStore(m, sync.OnceValue(func() error { return open(m) }))
		if err := once.(func() error)(); err != nil {
			return err
		}
	}
	return nil
}

func open(m Module) error {
	cm := C.CString(string(m))
	defer C.free(unsafe.Pointer(cm))
	var cerr *C.char
	if C.cvlibs_open(cm, &cerr) == nil {
		msg := "not found"
		if cerr != nil {
			msg = C.GoString(cerr)
		}
		return fmt.Errorf("cannot load OpenCV's %s module: %s", m, msg)
	}
	return nil
}
