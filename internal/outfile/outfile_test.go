package outfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "clip.mp4")
	mine, err := Create(final, 0o644) // this process's: kept
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Cleanup()
	stale := []string{".clip.mp4123456789", tag(final) + "-123.tmp", tag(final) + "-9.tmp"}
	keep := []string{"clip.mp4", ".clip.mp4.note", ".other.mp4123", "clip.jsonl", tag(filepath.Join(dir, "other.mp4")) + "-1.tmp"}
	for _, f := range append(stale, keep...) {
		touch(t, filepath.Join(dir, f))
	}
	RemoveStale(final)
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s left", f)
		}
	}
	for _, f := range append(keep, filepath.Base(mine.Name())) {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s removed", f)
		}
	}
}

// TestLongName: the temporary name's length does not depend on the final
// one, so a 249-character name (the limit is 255) is written.
func TestLongName(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, strings.Repeat("n", 245)+".mp4")
	if err := WriteFile(final, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(final)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	if b, err := os.ReadFile(final); err != nil || string(b) != "data" {
		t.Errorf("read back %q, %v", b, err)
	}
}

// TestPermsUnderUmask: under umask 000 a file is 0644, not 0666.
func TestPermsUnderUmask(t *testing.T) {
	for _, mask := range []int{0, 0o22, 0o77} {
		umaskOnce.Do(func() {})
		old := syscall.Umask(mask)
		umask = os.FileMode(mask)
		path := filepath.Join(t.TempDir(), "f")
		err := WriteFile(path, nil, 0o644)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		if want := os.FileMode(0o644) &^ os.FileMode(mask); st.Mode().Perm() != want {
			t.Errorf("umask %03o: mode %v, want %v", mask, st.Mode().Perm(), want)
		}
	}
	umask = 0o22
}

func TestLockExcludesAndIsReleased(t *testing.T) {
	final := filepath.Join(t.TempDir(), "out.mp4")
	a, err := Acquire(final)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(final); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock: %v, want ErrBusy", err)
	}
	a.Release()
	b, err := Acquire(final)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()
	// A stale lock file (its process gone: no flock on it) is taken over.
	touch(t, filepath.Join(filepath.Dir(final), tag(final)+".lock"))
	c, err := Acquire(final)
	if err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	c.Release()
	if left, _ := os.ReadDir(filepath.Dir(final)); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestCheckInputs(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	touch(t, in)
	hard := filepath.Join(dir, "hard.mp4")
	os.Link(in, hard)
	sym := filepath.Join(dir, "sym.mp4")
	os.Symlink(in, sym)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	tests := []struct {
		name string
		outs map[string]string
		want error
	}{
		{"fine", map[string]string{"-o": filepath.Join(dir, "out.mp4"), "--report": filepath.Join(dir, "r.json")}, nil},
		{"same path", map[string]string{"-o": in}, ErrIsInput},
		{"dotted path", map[string]string{"-o": filepath.Join(dir, "sub", "..", "in.mp4")}, ErrIsInput},
		{"hard link", map[string]string{"--sidecar": hard}, ErrIsInput},
		{"symlink", map[string]string{"--report": sym}, ErrIsInput},
		{"two outputs", map[string]string{"--sidecar": filepath.Join(dir, "r.json"), "--report": filepath.Join(dir, "sub", "..", "r.json")}, ErrSamePath},
	}
	for _, tt := range tests {
		err := CheckInputs([]string{in}, tt.outs)
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	// Relative paths from another folder.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(filepath.Join(dir, "sub"))
	if err := CheckInputs([]string{in}, map[string]string{"-o": "../in.mp4"}); !errors.Is(err, ErrIsInput) {
		t.Errorf("relative: %v", err)
	}
}

// TestAbandon: a forced exit removes this process's temporary and lock
// files.
func TestAbandon(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "out.mp4")
	l, err := Acquire(final)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	p, err := Create(final, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Cleanup()
	Abandon()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
