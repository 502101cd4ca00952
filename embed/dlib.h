// C interface to dlib's face landmarks and face descriptor network, for
// boxes found by any detector.
#ifndef VIDTAG_EMBED_DLIB_H
#define VIDTAG_EMBED_DLIB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct embedder embedder;

// embedder_new loads shape_predictor_5_face_landmarks.dat and
// dlib_face_recognition_resnet_model_v1.dat from dir. On failure it returns
// NULL and sets *err (free it with free).
embedder* embedder_new(const char* dir, char** err);
void embedder_free(embedder* e);

// embedder_run finds the 5 landmarks inside each of n boxes (left, top,
// right, bottom, inclusive, in pixels of the 8-bit BGR image) and computes
// each face's 128-d descriptor. descs receives n*128 floats, marks n*10
// floats (x, y of the 5 landmarks). Returns 0, or -1 with *err set.
int embedder_run(embedder* e, const uint8_t* bgr, int rows, int cols, int step,
                 const int* boxes, int n, float* descs, float* marks, char** err);

// embedder_frontal_load loads dlib's HOG frontal face detector: from raw
// (n bytes dlib serialized earlier) when given and valid, otherwise by
// decoding the copy compiled into dlib (about 0.6 s of CPU), in which case
// *fresh receives its serialized bytes (free them) for the caller to keep.
int embedder_frontal_load(embedder* e, const char* raw, long n, char** fresh, long* fresh_n, char** err);

// embedder_frontal runs the frontal detector on an 8-bit BGR image at its
// own scale (no upsampling) and writes up to max boxes (left, top, right,
// bottom, inclusive), sorted as go-face sorts them. Returns how many, or -1
// with *err set.
int embedder_frontal(embedder* e, const uint8_t* bgr, int rows, int cols, int step,
                     int* rects, int max, char** err);

#ifdef __cplusplus
}
#endif

#endif
