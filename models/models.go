package models

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// Files maps each model file to its sha256 sum.
var Files = map[string]string{
	"dlib_face_recognition_resnet_model_v1.dat": "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
	"shape_predictor_5_face_landmarks.dat":      "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
	"mmod_human_face_detector.dat":              "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a",
	UltraFace:                                   "6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854",
}

// UltraFace is the CNN face detector (UltraFace RFB-320 by Linzaer, MIT),
// from the npm registry package faceplugin-face-recognition-js@0.0.1.
const UltraFace = "fr_detect.onnx"

// The files each detector loads: go-face loads all three dlib models; the
// CNN path loads UltraFace and the two dlib models that describe a face.
var (
	HOGFiles = []string{"dlib_face_recognition_resnet_model_v1.dat", "mmod_human_face_detector.dat", "shape_predictor_5_face_landmarks.dat"}
	CNNFiles = []string{"dlib_face_recognition_resnet_model_v1.dat", UltraFace, "shape_predictor_5_face_landmarks.dat"}
)

// EnvVar names the folder that holds the models when no flag does.
const EnvVar = "VIDTAG_MODELS"

// ErrNotFound means no candidate folder holds the models.
var ErrNotFound = errors.New("model files not found")

// Locate returns the first folder that holds all model files: dir when it is
// not empty, else $VIDTAG_MODELS, else ./models, else models/ beside the
// directory of the running executable (bin/../models in a checkout).
// It does not check sums; Verify does.
func Locate(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env, nil
	}
	candidates := []string{"models"}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", "models"))
	}
	for _, c := range candidates {
		if hasAll(c) {
			return filepath.Clean(c), nil
		}
	}
	return "", fmt.Errorf("%w in ./models or beside the executable: run scripts/fetch-models.sh or set %s", ErrNotFound, EnvVar)
}

func hasAll(dir string) bool {
	for _, name := range HOGFiles {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return false
		}
	}
	return true
}

// Verify checks that dir holds the named model files (all of Files when
// none is named) with the right sha256 sums. The error names the first bad
// file and what is wrong with it.
func Verify(dir string, names ...string) error {
	if len(names) == 0 {
		for name := range Files {
			names = append(names, name)
		}
	}
	names = slices.Clone(names)
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(dir, name)
		sum, err := hashFile(path)
		if errors.Is(err, os.ErrNotExist) {
			hint := ""
			if name == UltraFace {
				hint = ", or use --detector hog"
			}
			return fmt.Errorf("%s: %w: run scripts/fetch-models.sh or set %s%s", path, ErrNotFound, EnvVar, hint)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if sum != Files[name] {
			return fmt.Errorf("%s: sha256 mismatch (got %s, want %s): the file is corrupt or not the expected model; delete it and run scripts/fetch-models.sh", path, sum[:12], Files[name][:12])
		}
	}
	return nil
}

// Digest identifies the model set, for deciding whether earlier outputs are stale.
func Digest() string {
	h := sha256.New()
	for _, name := range []string{"dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat", "mmod_human_face_detector.dat", UltraFace} {
		io.WriteString(h, Files[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile is fileSHA256; tests count its calls.
var hashFile = fileSHA256
