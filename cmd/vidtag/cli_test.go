package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/vidtag/vidtag/internal/testenv"
	"github.com/vidtag/vidtag/settings"
)

// runCLI runs vidtag in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append([]string{"vidtag"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// lastLine is the last line of s (the CLI's one-line error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// readJSON decodes the JSON file at path into a T.
func readJSON[T any](t *testing.T, path string) *T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// modelArgs points the CLI at the test models.
func modelArgs(t *testing.T) []string {
	return []string{"--models", testenv.Models(t), "--log-level", "warn"}
}

func TestInterspersedFlags(t *testing.T) {
	app := App(nil, nil)
	tests := []struct {
		in, want string
	}{
		{"vidtag annotate in.mp4 -o out.mp4 --known k", "vidtag annotate -o out.mp4 --known k -- in.mp4"},
		{"vidtag annotate -o out.mp4 in.mp4 --force", "vidtag annotate -o out.mp4 --force -- in.mp4"},
		{"vidtag annotate in.mp4 --sidecar - -o=x.mp4", "vidtag annotate --sidecar - -o=x.mp4 -- in.mp4"},
		{"vidtag annotate -- -weird.mp4 -o x", "vidtag annotate -- -weird.mp4 -o x"},
		{"vidtag nosuch a -b", "vidtag nosuch a -b"},
		{"vidtag known check dir --models m", "vidtag known check --models m -- dir"},
		{"vidtag known", "vidtag known"},
	}
	for _, tt := range tests {
		if got := strings.Join(interspersed(app, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"annotate", "x.mp4", "-o", "y.mp4", "--bogus"}, "flag provided but not defined: -bogus"},
		{"no input", []string{"annotate", "-o", "y.mp4"}, "annotate takes one INPUT video"},
		{"no output", []string{"annotate", "x.mp4"}, "annotate needs -o OUTPUT.mp4"},
		{"bad knobs", []string{"annotate", "x.mp4", "-o", "y.mp4", "--tolerance", "0", "--detect-every", "0", "--preset", "turbo"},
			"--tolerance 0: want auto or a distance in (0, 2]; --detect-every 0: want 1 or more; --preset \"turbo\""},
		{"unknown detector", []string{"annotate", "x.mp4", "-o", "y.mp4", "--detector", "mtcnn"}, "--detector \"mtcnn\": want ultraface or hog"},
		{"bad describe cadence", []string{"annotate", "x.mp4", "-o", "y.mp4", "--describe-every", "0"}, "--describe-every 0: want 1 or more"},
		{"unknown command", []string{"annotat"}, "unknown command \"annotat\""},
		{"missing config", []string{"annotate", "x.mp4", "-o", "y.mp4", "--config", "/no/such.yaml"}, "config /no/such.yaml: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d (stderr %q)", code, exitUsage, stderr)
			}
			if l := lastLine(stderr); !strings.HasPrefix(l, "vidtag: ") || !strings.Contains(l, tt.want) {
				t.Errorf("last stderr line %q, want it to contain %q", l, tt.want)
			}
		})
	}
}

// TestConfigPrecedence checks flag > VIDTAG_* environment > --config file >
// default, for each kind of setting.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("tolerance: 0.5\ndetect-every: 7\nlookahead: 2s\npreset: fast\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("tolerence: 0.5\n"), 0o644)

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		tol     float64
		every   int
		preset  string
		wantErr string
	}{
		{"defaults", nil, nil, defaults.Tolerance, defaults.DetectEvery, defaults.Preset, ""},
		{"file beats default", nil, []string{"--config", cfg}, 0.5, 7, "fast", ""},
		{"env beats file", map[string]string{"VIDTAG_TOLERANCE": "0.45", "VIDTAG_PRESET": "medium"}, []string{"--config", cfg}, 0.45, 7, "medium", ""},
		{"flag beats env", map[string]string{"VIDTAG_TOLERANCE": "0.45"}, []string{"--config", cfg, "--tolerance", "0.4", "--detect-every", "3"}, 0.4, 3, "fast", ""},
		{"config from env", map[string]string{"VIDTAG_CONFIG": cfg}, nil, 0.5, 7, "fast", ""},
		{"env of an earlier run is forgotten", nil, nil, defaults.Tolerance, defaults.DetectEvery, defaults.Preset, ""},
		{"misspelt key", nil, []string{"--config", bad}, 0, 0, "", "unknown setting tolerence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var got settings.Settings
			cmd := annotateCommand()
			cmd.Action = func(c *cli.Context) error {
				var err error
				got, err = readSettings(c)
				return err
			}
			app := App(&bytes.Buffer{}, &bytes.Buffer{})
			app.Commands = []*cli.Command{cmd}
			err := app.Run(append([]string{"vidtag", "annotate"}, tt.args...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Tolerance != tt.tol || got.DetectEvery != tt.every || got.Preset != tt.preset {
				t.Errorf("got tolerance %g, detect-every %d, preset %s; want %g, %d, %s", got.Tolerance, got.DetectEvery, got.Preset, tt.tol, tt.every, tt.preset)
			}
		})
	}
}

// TestDefaultConfigDocumentsEveryKnob keeps configs/default.yaml in step
// with the flags: every setting is there, with its real default, and the
// file loads.
func TestDefaultConfigDocumentsEveryKnob(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(), "configs", "default.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// A setting every command has is a top-level key; one that only some
	// have is in each such command's section.
	cmds := settingCommands()
	has := map[string]int{}
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			has[f.Names()[0]]++
		}
	}
	type flagOf struct {
		cmd string
		f   cli.Flag
	}
	var flags []flagOf
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			flags = append(flags, flagOf{cmd.Name, f})
		}
	}
	for _, ff := range flags {
		f, name := ff.f, ff.f.Names()[0]
		if !isSetting(f) { // per run, not settings
			continue
		}
		section := doc
		if has[name] < len(cmds) {
			section, _ = doc[ff.cmd].(map[string]any)
		}
		v, ok := section[name]
		if !ok {
			t.Errorf("configs/default.yaml does not document %q", name)
			continue
		}
		def := ""
		if g, ok := f.(cli.DocGenerationFlag); ok {
			def = g.GetDefaultText()
			if def == "" {
				def = g.GetValue()
			}
		}
		if got := fmt.Sprint(v); strings.Trim(def, `"`) != got && !(def == "" && got == "false") {
			t.Errorf("%s: default.yaml says %q, the flag's default is %q", name, got, def)
		}
	}
	var s settings.Settings
	cmd := annotateCommand()
	cmd.Action = func(c *cli.Context) (err error) { s, err = readSettings(c); return err }
	app := App(&bytes.Buffer{}, &bytes.Buffer{})
	app.Commands = []*cli.Command{cmd}
	if err := app.Run([]string{"vidtag", "annotate", "--config", path}); err != nil {
		t.Fatalf("default.yaml does not load: %v", err)
	}
	if s.Tolerance != defaults.Tolerance || s.DetectEvery != defaults.DetectEvery {
		t.Errorf("loaded %+v", s)
	}
}
