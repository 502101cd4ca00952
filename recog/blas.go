package recog

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// Looked up at run time: Debian may route libblas to OpenBLAS or to ATLAS.
static int vidtag_openblas_threads(int n) {
	void (*set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	if (set == NULL) return 0;
	set(n);
	return 1;
}
*/
import "C"

import "os"

// dlib's face descriptor network multiplies matrices through BLAS. OpenBLAS
// starts a thread per core and spins them on every call; with one engine per
// core already busy, that oversubscribes the machine (measured on the
// Hamilton clip, 2 cores: sys time 2.7 s -> 0.5 s, wall 5.9 s -> 4.5 s). So
// BLAS gets one thread per engine, unless the user set OPENBLAS_NUM_THREADS.
func init() {
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" {
		C.vidtag_openblas_threads(1)
	}
}
