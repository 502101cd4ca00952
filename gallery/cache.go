package gallery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/renameio/v2"
)

// Cached wraps a FaceFinder with an on-disk cache in dir, keyed by the
// photo's bytes and by version (the models and enrollment settings), so an
// unchanged known-faces folder is enrolled in milliseconds instead of
// seconds. What the finder found is cached, including "no face" and "two
// faces", but errors are not. The cache is best effort: when dir cannot be
// read or written, the finder runs as if there were none.
//
// Face descriptors are biometric data: the folder is 0700 and its files
// 0600, and a cache left more open by an older version is closed up.
func Cached(dir, version string, find FaceFinder) FaceFinder {
	var private sync.Once
	return func(path string) ([]Descriptor, error) {
		private.Do(func() { Private(dir) })
		data, err := os.ReadFile(path)
		if err != nil {
			return find(path)
		}
		h := sha256.New()
		h.Write([]byte(version))
		h.Write([]byte{0})
		h.Write(data)
		file := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))[:32]+".json")
		if b, err := os.ReadFile(file); err == nil {
			var descs []Descriptor
			if json.Unmarshal(b, &descs) == nil {
				return descs, nil
			}
		}
		descs, err := find(path)
		if err != nil {
			return nil, err
		}
		if b, err := json.Marshal(descs); err == nil && os.MkdirAll(dir, 0o700) == nil {
			renameio.WriteFile(file, b, 0o600) // best effort
		}
		return descs, nil
	}
}

// Private makes an existing cache folder 0700 and the files in it 0600
// (best effort: a folder that is not there is left alone).
func Private(dir string) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return
	}
	if st.Mode().Perm() != 0o700 {
		os.Chmod(dir, 0o700)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o077 != 0 {
			os.Chmod(filepath.Join(dir, e.Name()), 0o600)
		}
	}
}
