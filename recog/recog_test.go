package recog

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"testing"

	"gocv.io/x/gocv"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testenv"
)

// TestJPEGCarriesTrueColours checks the path a frame takes to dlib: a BGR Mat
// with known colours goes through EncodeJPEG, and a standard JPEG decoder
// (libjpeg inside go-face, image/jpeg here) must see the same RGB colours.
func TestJPEGCarriesTrueColours(t *testing.T) {
	patches := []struct {
		name string
		bgr  gocv.Scalar
		rgb  color.RGBA
	}{
		{"red", gocv.NewScalar(0, 0, 255, 0), color.RGBA{255, 0, 0, 255}},
		{"green", gocv.NewScalar(0, 255, 0, 0), color.RGBA{0, 255, 0, 255}},
		{"blue", gocv.NewScalar(255, 0, 0, 0), color.RGBA{0, 0, 255, 255}},
		{"skin", gocv.NewScalar(96, 133, 198, 0), color.RGBA{198, 133, 96, 255}},
	}
	for _, scale := range []float64{1, 0.5, 2} {
		for _, p := range patches {
			mat := gocv.NewMatWithSizeFromScalar(p.bgr, 64, 96, gocv.MatTypeCV8UC3)
			scratch := gocv.NewMat()
			buf, err := EncodeJPEG(mat, scale, 95, &scratch)
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(buf.GetBytes()))
			buf.Close()
			scratch.Close()
			mat.Close()
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != int(96*scale) || b.Dy() != int(64*scale) {
				t.Errorf("%s at %gx: decoded size %v", p.name, scale, b.Size())
			}
			r, g, b, _ := img.At(img.Bounds().Dx()/2, img.Bounds().Dy()/2).RGBA()
			got := [3]int{int(r >> 8), int(g >> 8), int(b >> 8)}
			want := [3]int{int(p.rgb.R), int(p.rgb.G), int(p.rgb.B)}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 6 {
					t.Errorf("%s at %gx: decoder sees RGB %v, want %v", p.name, scale, got, want)
					break
				}
			}
		}
	}
}

func newEngine(t *testing.T) *HOG {
	t.Helper()
	e, err := NewHOG(testenv.Models(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// TestSwappedChannelsWeakenRecognition shows why colour order matters: the
// same photo fed as RGB-where-BGR-is-expected lands further from the
// person's known face.
func TestSwappedChannelsWeakenRecognition(t *testing.T) {
	e := newEngine(t)
	known, err := e.FacesInPhoto(testenv.Data(t, "known", "Barack Obama.jpg"), 4_000_000)
	if err != nil || len(known) != 1 {
		t.Fatalf("known photo: %d faces, %v", len(known), err)
	}
	for _, file := range []string{"obama-720p.jpg", "two_people.jpg"} {
		img := gocv.IMRead(testenv.Data(t, "images", file), gocv.IMReadColor)
		swapped := gocv.NewMat()
		gocv.CvtColor(img, &swapped, gocv.ColorBGRToRGB)
		best := func(m gocv.Mat) float64 {
			buf, err := EncodeJPEG(m, 1, 95, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer buf.Close()
			faces, err := e.Recognize(buf.GetBytes(), 1)
			if err != nil || len(faces) == 0 {
				t.Fatalf("%s: no face (%v)", file, err)
			}
			d := math.Inf(1)
			for _, f := range faces {
				d = math.Min(d, gallery.Distance(f.Descriptor, known[0].Descriptor))
			}
			return d
		}
		right, wrong := best(img), best(swapped)
		img.Close()
		swapped.Close()
		t.Logf("%s: distance to known Obama %.3f with true colours, %.3f with swapped channels", file, right, wrong)
		if right >= 0.6 || right >= wrong {
			t.Errorf("%s: true colours %.3f, swapped %.3f: want true < swapped and < 0.6", file, right, wrong)
		}
	}
}

// TestFacesInStills compares FacesInPhoto with the reference detections in
// groundtruth/images.gt.json (IoU >= 0.4, the eval_tags rule).
func TestFacesInStills(t *testing.T) {
	e := newEngine(t)
	raw, err := os.ReadFile(testenv.Data(t, "groundtruth", "images.gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt map[string]struct {
		Faces []struct {
			Box [4]int `json:"box"`
		} `json:"faces"`
	}
	if err := json.Unmarshal(raw, &gt); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file  string
		found int // faces HOG should find (the partial face at the border is beyond HOG)
	}{
		{"two_people.jpg", 2}, {"obama-240p.jpg", 1}, {"obama-480p.jpg", 1},
		{"obama-720p.jpg", 1}, {"obama-1080p.jpg", 1}, {"no_face.jpg", 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			faces, err := e.FacesInPhoto(testenv.Data(t, "images", tt.file), 4_000_000)
			if err != nil {
				t.Fatal(err)
			}
			if len(faces) != tt.found {
				t.Fatalf("found %d faces, want %d", len(faces), tt.found)
			}
			for _, f := range faces {
				best := 0.0
				for _, g := range gt[tt.file].Faces {
					best = math.Max(best, iou(f.Box, image.Rect(g.Box[0], g.Box[1], g.Box[2], g.Box[3])))
				}
				if best < 0.4 {
					t.Errorf("box %v matches no reference face (best IoU %.2f)", f.Box, best)
				}
			}
		})
	}
	if _, err := e.FacesInPhoto(testenv.Data(t, "bad", "not_a_video.mp4"), 4_000_000); err == nil {
		t.Error("a text file decoded as a photo")
	}
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}
