// Package testenv finds what tests need outside the repository: the dlib
// models and the shared test data (../shared/testdata beside the checkout, or
// the folder named by VIDTAG_TESTDATA). When either is absent a test skips
// locally, but fails under CI=true: CI must never pass by skipping.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// DataEnvVar names the shared test data folder.
const DataEnvVar = "VIDTAG_TESTDATA"

// RepoRoot is the folder that holds go.mod.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// CI reports whether the tests run under CI, where nothing may be skipped.
func CI() bool { return os.Getenv("CI") == "true" }

// Require skips the test locally, or fails it under CI, with the reason.
func Require(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if CI() {
		t.Fatalf("required under CI: %s", why)
	}
	t.Skip(why)
}

// Models returns the model folder ($VIDTAG_MODELS or models/ in the repo).
func Models(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VIDTAG_MODELS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "models")
	}
	_, err := os.Stat(filepath.Join(dir, "dlib_face_recognition_resnet_model_v1.dat"))
	Require(t, err == nil, "dlib models not found in "+dir+" (run scripts/fetch-models.sh)")
	return dir
}

// Data returns the shared test data folder, or a path inside it.
func Data(t testing.TB, elem ...string) string {
	t.Helper()
	dir := os.Getenv(DataEnvVar)
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "testdata")
	}
	path := filepath.Join(append([]string{dir}, elem...)...)
	_, err := os.Stat(path)
	Require(t, err == nil, "shared test data not found: "+path+" (set "+DataEnvVar+")")
	return path
}

// Tool returns the path of a shared tool (../shared/tools beside the test
// data), e.g. Tool(t, "eval_tags.py").
func Tool(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(filepath.Dir(Data(t)), "tools", name)
	_, err := os.Stat(path)
	Require(t, err == nil, "shared tool not found: "+path)
	return path
}
