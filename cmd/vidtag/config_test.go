package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"
)

// perRun are the flags that are given on the command line only; every
// other flag of every command is a setting a config file can hold.
var perRun = map[string][]string{
	"annotate": {"output", "sidecar", "report", "force", "config"},
	"batch":    {"output", "sidecar-only", "force", "config"},
	"live":     {"camera", "input", "loop", "record", "headless", "events", "report", "snapshots", "force", "config"},
}

// testValue is a value for flag f that is not its default, as the command
// line spells it and as YAML does.
func testValue(t *testing.T, f cli.Flag) (arg, yamlValue string, want any) {
	switch f.(type) {
	case *cli.IntFlag, *altsrc.IntFlag:
		return "17", "17", 17
	case *cli.Float64Flag, *altsrc.Float64Flag:
		return "0.37", "0.37", 0.37
	case *cli.DurationFlag, *altsrc.DurationFlag:
		return "3s", "3s", 3 * time.Second
	case *cli.BoolFlag, *altsrc.BoolFlag:
		return "", "true", true
	case *cli.StringFlag, *altsrc.StringFlag, *cli.PathFlag, *altsrc.PathFlag:
		return "x-test", "x-test", "x-test"
	}
	t.Fatalf("%s: no test value for a %T", f.Names()[0], f)
	return
}

// runFlags runs command name with args; the command's Action only records
// the value of flag, which it returns.
func runFlags(t *testing.T, name, flag string, args ...string) (any, error) {
	t.Helper()
	app := App(&bytes.Buffer{}, &bytes.Buffer{})
	var got any
	for _, cmd := range app.Commands {
		cmd.Action = func(c *cli.Context) error {
			got = c.Value(flag)
			return nil
		}
	}
	err := app.Run(append([]string{"vidtag", name}, args...))
	return got, err
}

// TestEveryFlagOfEveryCommand sets each flag of each command on the command
// line, then from a config file: a setting's value must arrive (at the top
// level when every command has it, else in the command's section), and a
// per-run flag in a config file must be rejected with a line that names it.
func TestEveryFlagOfEveryCommand(t *testing.T) {
	dir := t.TempDir()
	cmds := settingCommands()
	has := map[string]int{}
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			has[f.Names()[0]]++
		}
	}
	n := 0
	for _, cmd := range cmds {
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			if name == "help" {
				continue
			}
			n++
			t.Run(cmd.Name+"/"+name, func(t *testing.T) {
				arg, yv, want := testValue(t, f)
				args := []string{"--" + name}
				if arg != "" {
					args = append(args, arg)
				}
				if name == "config" { // a config file of nothing
					cfg := filepath.Join(dir, "empty.yaml")
					os.WriteFile(cfg, nil, 0o644)
					args, want = []string{"--config", cfg}, cfg
				}
				got, err := runFlags(t, cmd.Name, name, args...)
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("command line %v: got %v (err %v), want %v", args, got, err, want)
				}

				key := name + ": " + yv + "\n"
				shared := has[name] == len(cmds)
				if !shared {
					key = cmd.Name + ":\n  " + key
				}
				cfg := filepath.Join(dir, cmd.Name+"-"+name+".yaml")
				os.WriteFile(cfg, []byte(key), 0o644)
				if name == "models" { // the environment would win over the file
					t.Setenv("VIDTAG_MODELS", "")
					os.Unsetenv("VIDTAG_MODELS")
				}
				if _, isPath := f.(*altsrc.PathFlag); isPath {
					want = filepath.Join(dir, yv) // relative to the config file
				}
				got, err = runFlags(t, cmd.Name, name, "--config", cfg)
				for _, p := range perRun[cmd.Name] {
					if p == name {
						if err == nil || !strings.Contains(err.Error(), name+": --"+name+" is given per run") {
							t.Fatalf("config %q: err %v, want a per-run error naming %s", key, err, name)
						}
						return
					}
				}
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("config %q: got %v (err %v), want %v", key, got, err, want)
				}
				if !shared { // the other commands leave this section alone
					for _, other := range cmds {
						if other.Name != cmd.Name {
							if _, err := runFlags(t, other.Name, name, "--config", cfg); err != nil {
								t.Errorf("vidtag %s with a %s section: %v", other.Name, cmd.Name, err)
							}
						}
					}
					// ... and a top-level key of it is an error for those
					// without it, which says where it goes (live has no
					// lookahead, which annotate and batch share).
					os.WriteFile(cfg, []byte(name+": "+yv+"\n"), 0o644)
					for _, other := range cmds {
						_, err := runFlags(t, other.Name, name, "--config", cfg)
						otherHas := slices.ContainsFunc(other.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
						if otherHas && err != nil ||
							!otherHas && (err == nil || !strings.Contains(err.Error(), "put it in a section")) {
							t.Errorf("vidtag %s with top-level %s: err %v", other.Name, name, err)
						}
					}
				}
			})
		}
	}
	if n < 60 {
		t.Errorf("only %d flags tested", n)
	}
}

// TestConfigErrors: what a config file cannot say, in one line each.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		cmd, yaml, want string
	}{
		{"annotate", "tolerence: 0.5\n", "unknown setting tolerence"},
		{"annotate", "batch:\n  jbos: 2\n", "unknown setting batch.jbos ('vidtag batch' has no --jbos)"},
		{"annotate", "force: true\nlive:\n  input: x.mp4\n", "force: --force is given per run, on the command line, not in a config file; live.input: --input is given per run"},
		{"batch", "batch: 3\n", "batch: want a section of 'vidtag batch' settings"},
		{"live", "jobs: 2\n", "jobs is not a setting of 'vidtag live' (only of batch)"},
	}
	for i, tt := range tests {
		cfg := filepath.Join(dir, fmt.Sprint(i, ".yaml"))
		os.WriteFile(cfg, []byte(tt.yaml), 0o644)
		code, _, stderr := runCLI(t, tt.cmd, "--config", cfg)
		if code != exitUsage || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s with %q: exit %d, %q; want exit 2 and one line with %q", tt.cmd, tt.yaml, code, stderr, tt.want)
		}
	}
	// A command's section beats the top level; here the other way round
	// would fail the check on --jobs.
	cfg := filepath.Join(dir, "both.yaml")
	os.WriteFile(cfg, []byte("batch:\n  jobs: 3\n  tolerance: 0.4\ntolerance: 0.5\n"), 0o644)
	if got, err := runFlags(t, "batch", "tolerance", "--config", cfg); err != nil || fmt.Sprint(got) != "0.4" {
		t.Errorf("batch section tolerance: got %v, %v; want 0.4", got, err)
	}
	if got, err := runFlags(t, "annotate", "tolerance", "--config", cfg); err != nil || fmt.Sprint(got) != "0.5" {
		t.Errorf("annotate top-level tolerance: got %v, %v; want 0.5", got, err)
	}
}

// settingCommands are the commands that take settings (and --config): the
// tagging commands, not "known", which only reads a folder.
func settingCommands() []*cli.Command {
	var out []*cli.Command
	for _, c := range App(nil, nil).Commands {
		if _, ok := configCommands()[c.Name]; ok {
			out = append(out, c)
		}
	}
	return out
}
