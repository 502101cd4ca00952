package ultraface

// #cgo pkg-config: opencv4
// #cgo CXXFLAGS: -std=c++11
// #include "threads.h"
import "C"

// SetThreads sets how many threads OpenCV's own parallel loops (the DNN
// layers among them) may use. vidtag already runs one detector per core,
// so it sets 1: a network spreading over every core as well only adds
// contention.
func SetThreads(n int) { C.ultraface_set_threads(C.int(n)) }
