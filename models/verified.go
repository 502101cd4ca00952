package models

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// VerifyCached is Verify that remembers, in the file cache ("" for none),
// each model file it has found good, by what the file system says of it
// (device, inode, size, modification and change times): a file unchanged
// since is not read again. Hashing the models costs 25-35 ms of every
// run, whose whole start-up is about 0.2 s. Rewriting a file, renaming
// another over it or touching it changes its change time, which no user
// can set back; the sum is checked again then.
func VerifyCached(dir, cache string, names ...string) error {
	if cache == "" {
		return Verify(dir, names...)
	}
	if len(names) == 0 {
		for name := range Files {
			names = append(names, name)
		}
	}
	known := map[string]verified{}
	if b, err := os.ReadFile(cache); err == nil {
		json.Unmarshal(b, &known) // a damaged cache only costs the hashing
	}
	changed := false
	for _, name := range names {
		path, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil {
			return Verify(dir, names...)
		}
		key := statKey(path)
		if v, ok := known[path]; ok && key != "" && v.Key == key && v.Sum == Files[name] {
			continue
		}
		if err := Verify(dir, name); err != nil {
			return err
		}
		if key != "" && key == statKey(path) { // not changed while it was read
			known[path] = verified{Key: key, Sum: Files[name]}
			changed = true
		}
	}
	if changed {
		writeCache(cache, known)
	}
	return nil
}

// verified is a model file found good, as the cache remembers it.
type verified struct {
	Key string `json:"stat"`
	Sum string `json:"sha256"`
}

// statKey is what the file system says of path that changes when its
// contents may have ("" when it cannot say).
func statKey(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d.%09d:%d.%09d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

// writeCache replaces the cache file whole (private, like vidtag's other
// caches); a cache that cannot be written is no error.
func writeCache(cache string, known map[string]verified) {
	b, err := json.MarshalIndent(known, "", "  ")
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(cache), 0o700); err != nil {
		return
	}
	f, err := os.CreateTemp(filepath.Dir(cache), ".verified-*")
	if err != nil {
		return
	}
	_, werr := f.Write(append(b, '\n'))
	if cerr := f.Close(); werr != nil || cerr != nil {
		os.Remove(f.Name())
		return
	}
	if err := os.Rename(f.Name(), cache); err != nil {
		os.Remove(f.Name())
	}
}
