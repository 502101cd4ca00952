package models

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr string // substring; "" means no error
	}{
		{"empty folder", func(t *testing.T, dir string) {}, "not found"},
		{"corrupt file", func(t *testing.T, dir string) {
			for name := range Files {
				writeFile(t, filepath.Join(dir, name), "not a model")
			}
		}, "sha256 mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.prepare(t, dir)
			err := Verify(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Verify() = %v, want error containing %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestVerifyRealModels(t *testing.T) {
	if err := Verify(testenv.Models(t)); err != nil {
		t.Fatal(err)
	}
}

func TestLocate(t *testing.T) {
	t.Setenv(EnvVar, "/from/env")
	if got, _ := Locate("/explicit"); got != "/explicit" {
		t.Errorf("explicit dir: got %q", got)
	}
	if got, _ := Locate(""); got != "/from/env" {
		t.Errorf("env dir: got %q", got)
	}
	t.Setenv(EnvVar, "")
	t.Chdir(t.TempDir())
	if _, err := Locate(""); err != nil && !errors.Is(err, ErrNotFound) {
		t.Errorf("empty: unexpected error %v", err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
