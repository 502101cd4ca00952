package outfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// ErrIsInput means an output would overwrite an input; ErrSamePath that
// two outputs of one run are one file. Both are usage errors (exit 2),
// whatever --force says.
var (
	ErrIsInput  = errors.New("vidtag never overwrites an input, even with --force")
	ErrSamePath = errors.New("given for two outputs")
)

// Resolve is path made absolute with every symbolic link in it followed;
// a missing file (an output not yet written) keeps its own name under its
// resolved folder.
func Resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, base := filepath.Split(abs)
	if dir == abs || base == "" {
		return abs
	}
	return filepath.Join(Resolve(filepath.Clean(dir)), base)
}

// SameFile reports whether a and b are one file: the same resolved path,
// or the same device and inode (hard links).
func SameFile(a, b string) bool {
	if Resolve(a) == Resolve(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// CheckInputs fails when an output is one of the inputs or two outputs
// are one file. Outputs given as "" are skipped. Each name is checked as
// given (flag name included by the caller's message).
func CheckInputs(inputs []string, outputs map[string]string) error {
	var names []string
	for name, p := range outputs {
		if p != "" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		out := outputs[name]
		for _, in := range inputs {
			if in != "" && SameFile(in, out) {
				if Resolve(in) == Resolve(out) {
					return fmt.Errorf("%s %s: is the input: %w", name, out, ErrIsInput)
				}
				return fmt.Errorf("%s %s: is the input %s (the same file by another name): %w", name, out, in, ErrIsInput)
			}
		}
	}
	for i, a := range names {
		for _, b := range names[i+1:] {
			if SameFile(outputs[a], outputs[b]) {
				return fmt.Errorf("%s: %w (%s and %s)", outputs[b], ErrSamePath, a, b)
			}
		}
	}
	return nil
}
