package people

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/outfile"
)

// FileSuffix ends the name of a video's people file: NAME.people.json
// beside NAME.mp4, NAME.jsonl and NAME.report.json.
const FileSuffix = ".people.json"

// fileVersion changes when File's meaning changes.
const fileVersion = 1

// File is what a run keeps about its tracks for Unify: NAME.people.json,
// 0600 (the descriptors are biometric data). Paths are relative to the
// file's folder.
type File struct {
	Version int    `json:"version"`
	Input   string `json:"input"` // the video tagged, as given
	// Name is the video as the batch report names it (its path relative
	// to the input folder); annotate's input otherwise.
	Name    string `json:"name"`
	Video   string `json:"video,omitempty"`  // the annotated MP4 ("": sidecar only)
	Sidecar string `json:"sidecar"`          // the JSON lines
	Report  string `json:"report,omitempty"` // the run report ("": none)
	// Stem is the outputs' common stem (x for x.mp4): the VTT and the
	// page are Stem.vtt and Stem.html.
	Stem  string `json:"stem"`
	Faces string `json:"faces"` // folder of the face crops
	// Cut is the clustering distance: the identity tolerance the run
	// used (see Unify).
	Cut       float64 `json:"cut"`
	Subtitles bool    `json:"subtitles"` // write NAME.vtt and the MP4's subtitle stream
	FrameRate float64 `json:"fps"`
	Frames    int     `json:"frames"`
	Tracks    []Track `json:"tracks"`
}

// Track is one track of the video.
type Track struct {
	ID int `json:"track"`
	// Label is the track's last label; Unknown is true when any of its
	// frames is Unknown (those frames get the track's cluster).
	Label   string `json:"label"`
	Unknown bool   `json:"unknown"`
	First   int    `json:"first"` // frames
	Last    int    `json:"last"`
	// Cluster is set by Unify: the stranger group, from 1; 0 for none.
	Cluster int `json:"cluster"`
	// Quality ranks the crop: its face's area times the detector's score.
	Quality float64 `json:"quality"`
	Crop    string  `json:"crop,omitempty"` // relative path of the best face crop
	// Descriptors is how many descriptors went into Descriptor (0: the
	// track was never described, a profile all along: it cannot be
	// clustered).
	Descriptors int                 `json:"descriptors"`
	Descriptor  *gallery.Descriptor `json:"descriptor,omitempty"`
}

// PathFor is the people file for output stem base (out/x for
// out/x.mp4): out/x.people.json.
func PathFor(base string) string { return Sibling(base, FileSuffix) }

// Sibling is base+ext, the name shortened (the stem cut, a hash of it
// added) when it would pass the 255 bytes a file name may have: an
// output named up to the limit still gets its people files.
func Sibling(base, ext string) string {
	dir, name := filepath.Split(base)
	if len(name)+len(ext) <= 255 {
		return base + ext
	}
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:4])
	keep := 255 - len(ext) - len(h) - 1
	for keep > 0 && !utf8.RuneStart(name[keep]) {
		keep--
	}
	return dir + name[:keep] + "-" + h + ext
}

// ReadFile reads a people file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Stem != "" && (strings.ContainsAny(f.Stem, `/\`) || f.Stem == ".." || f.Stem == ".") {
		return nil, fmt.Errorf("%s: stem %q is not a name beside the file", path, f.Stem)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("%s: people file version %d, want %d (re-run the video)", path, f.Version, fileVersion)
	}
	return &f, nil
}

// encode is the file's bytes: fixed by the data, so rewriting an
// unchanged file writes the same bytes.
func (f *File) encode() []byte {
	b, _ := json.MarshalIndent(f, "", " ")
	return append(b, '\n')
}

// Write writes f to path atomically, 0600.
func (f *File) Write(path string) error {
	return writeIfChanged(path, f.encode(), 0o600)
}

// rel is p relative to dir (p itself when that fails).
func rel(dir, p string) string {
	if p == "" {
		return ""
	}
	r, err := filepath.Rel(dir, p)
	if err != nil {
		return p
	}
	return r
}

// writeIfChanged writes b to path atomically unless path already holds
// exactly b (then nothing is touched: re-running is a no-op). A file
// that is there keeps its mode check: perm applies to new files and to
// rewrites.
func writeIfChanged(path string, b []byte, perm os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&^perm == 0 {
			return nil
		}
	}
	if err := outfile.WriteFile(path, b, perm); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Outputs lists what the people step writes for output stem base: the
// people file, the VTT, the page and the folder of face crops. A run that
// fails after writing them removes them all (annotate.RemoveOutputs).
func Outputs(base string) []string {
	return []string{PathFor(base), Sibling(base, ".vtt"), Sibling(base, ".html"), FacesDir(base)}
}
