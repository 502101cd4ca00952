package models

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Mode is the mode model files should have: readable by everyone, writable
// by their owner only. A model another user can replace decides whose face
// is whose.
const Mode os.FileMode = 0o644

// Names returns the names of all model files (the keys of Files), sorted.
func Names() []string {
	names := make([]string, 0, len(Files))
	for name := range Files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Sum returns the sha256 sum, in hex, of the file at path.
func Sum(path string) (string, error) { return fileSHA256(path) }

// WritableByOthers lists the model files in dir that users other than
// their owner may write (npm's tarballs give them 0666), each as
// "PATH (mode 0666)". scripts/fetch-models.sh sets them to Mode.
func WritableByOthers(dir string) []string {
	var loose []string
	for _, name := range Names() {
		path := filepath.Join(dir, name)
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o022 != 0 {
			loose = append(loose, fmt.Sprintf("%s (mode %04o)", path, st.Mode().Perm()))
		}
	}
	return loose
}
