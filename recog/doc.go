// Package recog finds faces and computes their 128-d descriptors: Engines
// (the UltraFace CNN, described through go-face, or go-face's own HOG path)
// and the Pool that lends them to detector workers.
//
// go-face takes JPEG bytes only, does not upsample, and serialises every call
// on one Recognizer behind mutexes; an Engine therefore belongs to one
// goroutine at a time, and callers resize and encode images themselves with
// EncodeJPEG.
//
// Colour order: a gocv Mat holds BGR, gocv's JPEG encoder expects BGR and
// writes a standard JPEG, and libjpeg inside go-face decodes it to the RGB
// that dlib's models were trained on. No channel swap is needed on the way
// and adding one would silently weaken recognition (see the tests).
package recog
