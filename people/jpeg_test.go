package people

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"gocv.io/x/gocv"
)

// encodeJPEG writes what the Mat holds, in its colours, whether the Mat is
// a whole image or a region of a frame (rows not contiguous).
func TestEncodeJPEG(t *testing.T) {
	frame := gocv.NewMatWithSize(120, 160, gocv.MatTypeCV8UC3)
	defer frame.Close()
	frame.SetTo(gocv.NewScalar(200, 30, 10, 0)) // BGR: blue
	left := frame.Region(image.Rect(0, 0, 80, 120))
	left.SetTo(gocv.NewScalar(10, 30, 200, 0)) // red
	left.Close()
	cases := []struct {
		name   string
		r      image.Rectangle
		r0, b0 uint32 // expected red and blue at the centre, 8-bit
		w, h   int
	}{
		{"whole", image.Rect(0, 0, 160, 120), 0, 0, 160, 120},
		{"red region", image.Rect(10, 10, 70, 50), 200, 10, 60, 40},
		{"blue region", image.Rect(90, 60, 150, 110), 10, 200, 60, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := frame.Region(c.r)
			defer m.Close()
			b, err := encodeJPEG(m, 90)
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
				t.Fatalf("decoded %v, want %dx%d", img.Bounds(), c.w, c.h)
			}
			if c.name == "whole" {
				return
			}
			r, _, bl, _ := img.At(c.w/2, c.h/2).RGBA()
			if d := int(r>>8) - int(c.r0); d < -8 || d > 8 {
				t.Errorf("red %d, want about %d", r>>8, c.r0)
			}
			if d := int(bl>>8) - int(c.b0); d < -8 || d > 8 {
				t.Errorf("blue %d, want about %d", bl>>8, c.b0)
			}
		})
	}
	grey := gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC1)
	defer grey.Close()
	if _, err := encodeJPEG(grey, 90); err == nil {
		t.Error("a grey Mat was encoded as if BGR")
	}
}
