// Package embed computes dlib's 128-d face descriptor for a face box found
// by any detector. go-face can only describe the faces its own HOG detector
// finds in a JPEG; this package runs the same two dlib models (the 5-point
// shape predictor and the ResNet) on a given box, through a small cgo file
// that links the same libdlib.
package embed

// // go-face compiles dlib's headers with -march=native, and the linker keeps
// // one copy of each dlib template both files use (377 of them): compiled
// // otherwise here, this file would call code built for another instruction
// // set and another layout of dlib's SIMD types. Same flags, one dlib; and
// // dlib's HOG (the describe step's confirmation) gets its AVX paths.
// #cgo CXXFLAGS: -std=c++14 -O3 -DNDEBUG -Wall -march=native
// #cgo LDFLAGS: -ldlib -lblas -llapack
// #include <stdlib.h>
// #include <dlib/revision.h>
// #include "dlib.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"unsafe"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/internal/outfile"
)

// Descriptor is a face's position in dlib's 128-d identity space.
type Descriptor = [128]float32

// Face is what the models found inside one box.
type Face struct {
	Descriptor Descriptor
	// Landmarks are the 5 points of dlib's shape predictor, in the
	// image's pixels: the outer and inner corner of one eye, then of the
	// other, then the bottom of the nose.
	Landmarks [5]image.Point
}

// Embedder owns one copy of the two models (about 30 MB). It is not for
// concurrent use: give each worker its own.
type Embedder struct {
	p *C.embedder
}

// New loads the models from dir.
func New(dir string) (*Embedder, error) {
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var cerr *C.char
	p := C.embedder_new(cdir, &cerr)
	if p == nil {
		return nil, fmt.Errorf("load dlib models from %s: %s", dir, takeError(cerr))
	}
	return &Embedder{p: p}, nil
}

// Close frees the models.
func (e *Embedder) Close() {
	if e.p != nil {
		C.embedder_free(e.p)
		e.p = nil
	}
}

// Embed describes the face in each box (dlib style: right and bottom
// inclusive) of an 8-bit BGR image.
func (e *Embedder) Embed(img gocv.Mat, boxes []image.Rectangle) ([]Face, error) {
	if len(boxes) == 0 {
		return nil, nil
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, errors.New("embed: want a non-empty 8-bit BGR image")
	}
	data, err := img.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	w, h := img.Cols(), img.Rows()
	cb := make([]C.int, 4*len(boxes))
	for i, b := range boxes {
		b = b.Intersect(image.Rect(0, 0, w-1, h-1))
		if b.Dx() < 2 || b.Dy() < 2 {
			return nil, fmt.Errorf("embed: box %v lies outside the %dx%d image", boxes[i], w, h)
		}
		cb[4*i], cb[4*i+1], cb[4*i+2], cb[4*i+3] = C.int(b.Min.X), C.int(b.Min.Y), C.int(b.Max.X), C.int(b.Max.Y)
	}
	descs := make([]C.float, 128*len(boxes))
	marks := make([]C.float, 10*len(boxes))
	var cerr *C.char
	rc := C.embedder_run(e.p, (*C.uint8_t)(unsafe.Pointer(&data[0])), C.int(h), C.int(w), C.int(img.Step()),
		&cb[0], C.int(len(boxes)), &descs[0], &marks[0], &cerr)
	if rc != 0 {
		return nil, fmt.Errorf("embed: %s", takeError(cerr))
	}
	out := make([]Face, len(boxes))
	for i := range out {
		for k := 0; k < 128; k++ {
			out[i].Descriptor[k] = float32(descs[128*i+k])
		}
		for k := 0; k < 5; k++ {
			out[i].Landmarks[k] = image.Pt(int(marks[10*i+2*k]+0.5), int(marks[10*i+2*k+1]+0.5))
		}
	}
	return out, nil
}

// LoadFrontal loads dlib's HOG frontal face detector, for Frontal. dlib
// compiles it into its library compressed, and decoding it costs about
// 0.6 s of CPU (the models take 0.15 s), at the start of every process. So
// the decoded detector (155 kB) is kept in cacheDir, made 0700 with the
// file 0600 as every vidtag cache, and read from there next time; a file
// that does not read as a detector is decoded afresh and replaced. cacheDir
// "" decodes every time.
func (e *Embedder) LoadFrontal(cacheDir string) error {
	var path string
	var raw []byte
	if cacheDir != "" {
		path = filepath.Join(cacheDir, fmt.Sprintf("frontal_face_detector-%d.%d.%d.dat",
			C.DLIB_MAJOR_VERSION, C.DLIB_MINOR_VERSION, C.DLIB_PATCH_VERSION))
		raw, _ = os.ReadFile(path)
	}
	var craw *C.char
	if len(raw) > 0 {
		craw = (*C.char)(C.CBytes(raw))
		defer C.free(unsafe.Pointer(craw))
	}
	var fresh, cerr *C.char
	var n C.long
	if C.embedder_frontal_load(e.p, craw, C.long(len(raw)), &fresh, &n, &cerr) != 0 {
		return fmt.Errorf("load dlib's frontal face detector: %s", takeError(cerr))
	}
	if fresh != nil {
		defer C.free(unsafe.Pointer(fresh))
		if path != "" && os.MkdirAll(cacheDir, 0o700) == nil {
			// A cache is an optimisation: a read-only home only costs time.
			_ = outfile.WriteFile(path, C.GoBytes(unsafe.Pointer(fresh), C.int(n)), 0o600)
		}
	}
	return nil
}

// maxFrontal bounds the faces Frontal reports in one image.
const maxFrontal = 256

// Frontal finds frontal faces in an 8-bit BGR image with dlib's HOG
// detector (LoadFrontal first), at the image's own scale, as go-face's
// Recognize does: boxes dlib style (right and bottom inclusive), sorted as
// go-face sorts them.
func (e *Embedder) Frontal(img gocv.Mat) ([]image.Rectangle, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, errors.New("embed: want a non-empty 8-bit BGR image")
	}
	data, err := img.DataPtrUint8()
	if err != nil {
		return nil, err
	}
	rects := make([]C.int, 4*maxFrontal)
	var cerr *C.char
	n := C.embedder_frontal(e.p, (*C.uint8_t)(unsafe.Pointer(&data[0])), C.int(img.Rows()), C.int(img.Cols()), C.int(img.Step()),
		&rects[0], maxFrontal, &cerr)
	if n < 0 {
		return nil, fmt.Errorf("embed: %s", takeError(cerr))
	}
	out := make([]image.Rectangle, n)
	for i := range out {
		out[i] = image.Rect(int(rects[4*i]), int(rects[4*i+1]), int(rects[4*i+2]), int(rects[4*i+3]))
	}
	return out, nil
}

func takeError(c *C.char) string {
	if c == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(c))
	return C.GoString(c)
}
