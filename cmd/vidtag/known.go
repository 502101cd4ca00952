package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vidtag/vidtag/engine"
	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

// knownCommand: vidtag known check DIR
//
// Reads a known-faces folder and says whether its names will be reliable:
// per person whether the photos agree, which people look alike to vidtag,
// the tolerance auto picks, and what to add. Exit 1 when the folder has
// problems that make names unreliable (a photo that disagrees with its
// person, look-alikes); unusable photos are listed, as enrollment skips them.
func knownCommand() *cli.Command {
	return &cli.Command{
		Name:  "known",
		Usage: "inspect a known-faces folder",
		Subcommands: []*cli.Command{{
			Name:         "check",
			Usage:        "say whether a known-faces folder gives reliable names, and what would help",
			ArgsUsage:    "DIR",
			Flags:        []cli.Flag{&cli.PathFlag{Name: "models", Usage: "folder holding the dlib models", EnvVars: envVars("models")}},
			OnUsageError: onUsageError,
			Action:       runKnownCheck,
		}},
		OnUsageError: onUsageError,
	}
}

// errUnreliable is a check that found problems: exit 1, details printed.
var errUnreliable = errors.New("names from this folder are unreliable (see above)")

func runKnownCheck(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErrorf("known check takes one DIR, got %d arguments (see 'vidtag known check --help')", c.NArg())
	}
	dir := c.Args().First()
	photos, err := gallery.Photos(dir)
	if err != nil {
		return err
	}
	mdir, err := models.Locate(c.Path("models"))
	if err != nil {
		return err
	}
	if err := models.Verify(mdir, models.HOGFiles...); err != nil {
		return err
	}
	e, err := recog.NewHOG(mdir)
	if err != nil {
		return err
	}
	defer e.Close()

	var labels, paths []string
	var descs []gallery.Descriptor
	var skipped []string
	for _, p := range photos {
		if err := c.Context.Err(); err != nil {
			return err
		}
		faces, err := e.FacesInPhoto(p.Path, engine.EnrollMaxPixels)
		switch {
		case err != nil:
			skipped = append(skipped, fmt.Sprintf("%s: %v", p.Path, err))
		case len(faces) == 0:
			skipped = append(skipped, fmt.Sprintf("%s: %v", p.Path, gallery.ErrNoFace))
		case len(faces) > 1:
			skipped = append(skipped, fmt.Sprintf("%s: %d faces: %v", p.Path, len(faces), gallery.ErrManyFaces))
		default:
			labels, paths = append(labels, p.Label), append(paths, p.Path)
			descs = append(descs, gallery.Descriptor(faces[0].Descriptor))
		}
	}
	known := identity.New(labels, descs)
	// The path of each person's i-th photo, in the order identity groups them.
	pathOf := map[string][]string{}
	for i, l := range labels {
		pathOf[l] = append(pathOf[l], paths[i])
	}
	rep := identity.Check(known, func(person string, i int) string { return pathOf[person][i] })
	printCheck(c.App.Writer, dir, len(photos), known, rep, pathOf, skipped)
	if rep.Unreliable() {
		return fmt.Errorf("%s: %w", dir, errUnreliable)
	}
	return nil
}

func printCheck(w io.Writer, dir string, nPhotos int, known *identity.Known, rep *identity.CheckReport, pathOf map[string][]string, skipped []string) {
	fmt.Fprintf(w, "%s: %d people, %d of %d photos usable\n", dir, len(known.People()), nPhotos-len(skipped), nPhotos)
	fmt.Fprintf(w, "tolerance auto picks %s\n", strings.TrimPrefix(rep.Calibration.String(), "tolerance "))
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return r
		}
		return p
	}
	bad := map[string][]string{}
	for _, o := range rep.Outliers {
		p := rel(pathOf[o.Person][o.Photo])
		if o.Like != "" {
			bad[o.Person] = append(bad[o.Person], fmt.Sprintf("%s is %.2f from the others, %.2f from %s: probably %s, misfiled", p, o.Apart, o.LikeDist, o.Like, o.Like))
		} else {
			bad[o.Person] = append(bad[o.Person], fmt.Sprintf("%s is %.2f from the others: probably someone else", p, o.Apart))
		}
	}
	fmt.Fprintln(w, "people:")
	for _, p := range rep.People {
		switch {
		case len(bad[p.Name]) > 0:
			fmt.Fprintf(w, "  %s: %d photos DISAGREE: %s\n", p.Name, p.Photos, strings.Join(bad[p.Name], "; "))
		case math.IsNaN(p.Spread):
			fmt.Fprintf(w, "  %s: 1 photo (nothing to compare it with)\n", p.Name)
		default:
			fmt.Fprintf(w, "  %s: %d photos agree (each within %.2f of the others)\n", p.Name, p.Photos, p.Spread)
		}
	}
	if len(rep.LookAlikes) > 0 {
		fmt.Fprintln(w, "look-alikes (vidtag will confuse them):")
		for _, p := range rep.LookAlikes {
			fmt.Fprintf(w, "  %s ~ %s: %.2f apart\n", p.A, p.B, p.Distance)
		}
	} else {
		fmt.Fprintln(w, "look-alikes: none")
	}
	if len(skipped) > 0 {
		fmt.Fprintln(w, "unusable photos (skipped by vidtag):")
		for _, s := range skipped {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if len(rep.Advice) > 0 || len(skipped) > 0 {
		fmt.Fprintln(w, "to make the names reliable:")
		for _, a := range rep.Advice {
			fmt.Fprintf(w, "  - %s\n", a)
		}
		if len(skipped) > 0 {
			fmt.Fprintln(w, "  - replace the unusable photos with photos of one face each")
		}
	}
	if rep.Unreliable() {
		fmt.Fprintln(w, "verdict: names from this folder are unreliable")
	} else {
		fmt.Fprintln(w, "verdict: ok")
	}
}
