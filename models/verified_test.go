package models

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVerifyCached: a model file found good is not hashed again while the
// file system says it is unchanged; rewritten (same size), touched or
// replaced, it is hashed again and a bad one is still an error naming it.
// The cache is private.
func TestVerifyCached(t *testing.T) {
	const name = "a.dat"
	good := "the right model bytes"
	sum := sha256.Sum256([]byte(good))
	old, had := Files[name]
	Files[name] = hex.EncodeToString(sum[:])
	t.Cleanup(func() {
		if had {
			Files[name] = old
		} else {
			delete(Files, name)
		}
	})
	hashes := 0
	hashFile = func(path string) (string, error) { hashes++; return fileSHA256(path) }
	t.Cleanup(func() { hashFile = fileSHA256 })

	for _, tt := range []struct {
		name    string
		change  func(t *testing.T, path string) // before the second run
		hashes  int                             // by the second run
		wantErr string
	}{
		{"unchanged: hashed once", func(t *testing.T, path string) {}, 0, ""},
		{"rewritten, same size", func(t *testing.T, path string) {
			writeFile(t, path, strings.Repeat("x", len(good)))
		}, 1, "sha256 mismatch"},
		{"touched", func(t *testing.T, path string) {
			now := time.Now().Add(time.Minute)
			if err := os.Chtimes(path, now, now); err != nil {
				t.Fatal(err)
			}
		}, 1, ""},
		{"replaced by a rename", func(t *testing.T, path string) {
			other := path + ".new"
			writeFile(t, other, good)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}, 1, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			cache := filepath.Join(t.TempDir(), "models", "verified.json")
			writeFile(t, path, good)
			hashes = 0
			if err := VerifyCached(dir, cache, name); err != nil || hashes != 1 {
				t.Fatalf("first run: %v, %d hashes; want nil, 1", err, hashes)
			}
			if st, err := os.Stat(cache); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("cache %v %v, want a 0600 file", st, err)
			}
			tt.change(t, path)
			hashes = 0
			err := VerifyCached(dir, cache, name)
			if hashes != tt.hashes {
				t.Errorf("second run hashed %d times, want %d", hashes, tt.hashes)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path)) {
				t.Errorf("second run: %v, want %q naming %s", err, tt.wantErr, path)
			}
		})
	}
}
