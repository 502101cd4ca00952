package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/models"
)

// version is set at build time (make build: -ldflags -X main.version=...);
// otherwise it comes from the module's build information.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "(devel)"
}

// printVersion is vidtag --version: the version, then each model file
// (every one models.Files knows) with the sha256 it must have and what the
// file in the models folder has.
func printVersion(c *cli.Context) {
	w := c.App.Writer
	fmt.Fprintf(w, "vidtag %s (%s, %s/%s)\n", versionString(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	dir, err := models.Locate("")
	if err != nil {
		fmt.Fprintf(w, "models: %v\n", err)
		dir = ""
	} else {
		abs, _ := filepath.Abs(dir)
		fmt.Fprintf(w, "models in %s (set %s or --models to change):\n", abs, models.EnvVar)
	}
	printModels(w, dir)
}

func printModels(w io.Writer, dir string) {
	for _, name := range models.Names() {
		want := models.Files[name]
		state := "missing"
		if dir != "" {
			got, err := models.Sum(filepath.Join(dir, name))
			switch {
			case err != nil:
				state = "missing"
			case got == want:
				state = "ok"
			default:
				state = "MISMATCH, the file has " + got
			}
		}
		fmt.Fprintf(w, "  %-42s sha256 %s  %s\n", name, want, state)
	}
	if dir != "" {
		for _, p := range models.WritableByOthers(dir) {
			fmt.Fprintf(w, "warning: %s is writable by other users: chmod 0644 it (scripts/fetch-models.sh does)\n", p)
		}
	}
}
