package blur

import (
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"none", "none", false},
		{"", "none", false},
		{"unknown", "unknown", false},
		{"all", "all", false},
		{"except=Lin-Manuel Miranda", "except=Lin-Manuel Miranda", false},
		{"except=Joe Biden, Barack Obama,Joe Biden", "except=Barack Obama,Joe Biden", false},
		{"except=", "", true},
		{"except= , ", "", true},
		{"everyone", "", true},
		{"All", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, want error %v", err, tt.wantErr)
			}
			if err == nil && p.String() != tt.want {
				t.Errorf("got %q, want %q", p.String(), tt.want)
			}
		})
	}
}

func TestBlurs(t *testing.T) {
	except, _ := Parse("except=Lin-Manuel Miranda")
	tests := []struct {
		p            Policy
		label        string
		known        bool
		want         bool
		policy, what string
	}{
		{Policy{}, "Unknown", false, false, "none", "a stranger"},
		{Policy{Mode: All}, "Lin-Manuel Miranda", true, true, "all", "a known face"},
		{Policy{Mode: All}, "Unknown", false, true, "all", "a stranger"},
		{Policy{Mode: Unknown}, "Lin-Manuel Miranda", true, false, "unknown", "a known face"},
		{Policy{Mode: Unknown}, "Unknown", false, true, "unknown", "a stranger"},
		{except, "Lin-Manuel Miranda", true, false, "except", "the excepted person"},
		{except, "Barack Obama", true, true, "except", "another known person"},
		{except, "Unknown", false, true, "except", "a stranger"},
		// A label that is a known name but was not decided known (a
		// tentative match) is blurred.
		{except, "Lin-Manuel Miranda", false, true, "except", "an undecided face"},
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.what, func(t *testing.T) {
			if got := tt.p.Blurs(tt.label, tt.known); got != tt.want {
				t.Errorf("Blurs(%q, %v) = %v, want %v", tt.label, tt.known, got, tt.want)
			}
		})
	}
}

func TestPad(t *testing.T) {
	tests := []struct {
		name string
		box  image.Rectangle
		want image.Rectangle
	}{
		// 100x100 (inclusive 100..199) -> 150x150 + 8 px a side about the centre 150.
		{"inside", image.Rect(100, 100, 199, 199), image.Rect(67, 67, 233, 233)},
		{"clipped at the corner", image.Rect(0, 0, 99, 99), image.Rect(0, 0, 133, 133)},
		// 40x60 about (620, 330) -> 76x106.
		{"clipped at the far edges", image.Rect(600, 300, 639, 359), image.Rect(582, 277, 640, 360)},
		{"outside", image.Rect(700, 400, 740, 440), image.Rectangle{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Pad(tt.box, 640, 360); got != tt.want && !(got.Empty() && tt.want.Empty()) {
				t.Errorf("Pad(%v) = %v, want %v", tt.box, got, tt.want)
			}
		})
	}
}

// sharpness is the mean absolute Laplacian of r in m: high for detail,
// near zero for a blurred or flat region.
func sharpness(t *testing.T, m gocv.Mat, r image.Rectangle) float64 {
	t.Helper()
	roi := m.Region(r)
	defer roi.Close()
	grey, lap := gocv.NewMat(), gocv.NewMat()
	defer grey.Close()
	defer lap.Close()
	gocv.CvtColor(roi, &grey, gocv.ColorBGRToGray)
	gocv.Laplacian(grey, &lap, gocv.MatTypeCV32F, 1, 1, 0, gocv.BorderReflect101)
	abs := gocv.NewMat()
	defer abs.Close()
	gocv.ConvertScaleAbs(lap, &abs, 1, 0)
	return abs.Mean().Val1
}

// noise is a w x h BGR frame of uniform noise: detail at every scale down
// to the pixel, which no blur style may keep.
func noise(w, h int) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	gocv.RandU(&m, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(256, 256, 256, 0))
	return m
}

// TestApplyHidesTheRegionOnly: each style removes the detail inside the
// region (small and large regions alike, at the frame's edge too) and
// leaves every pixel outside it as it was.
func TestApplyHidesTheRegionOnly(t *testing.T) {
	regions := []image.Rectangle{
		image.Rect(100, 60, 136, 96),   // a 28-px face, padded
		image.Rect(200, 20, 600, 340),  // a close-up
		image.Rect(0, 300, 40, 360),    // at the corner
		image.Rect(620, 100, 640, 120), // 20 px, at the right edge
	}
	for _, style := range []Style{Gaussian, Pixelate, Solid} {
		for _, r := range regions {
			t.Run(style.String()+"/"+r.String(), func(t *testing.T) {
				m := noise(640, 360)
				defer m.Close()
				orig := m.Clone()
				defer orig.Close()
				before := sharpness(t, m, r)
				b := New(style)
				defer b.Close()
				b.Apply(&m, r)
				// Interior: blocks of Pixelate keep edges between blocks,
				// so the measure is a fraction, not zero.
				after := sharpness(t, m, r)
				if limit := 0.25 * before; after > limit {
					t.Errorf("sharpness %.1f -> %.1f, want at most %.1f", before, after, limit)
				}
				diff := gocv.NewMat()
				defer diff.Close()
				gocv.AbsDiff(m, orig, &diff)
				// Zero the region: nothing else may have changed.
				in := diff.Region(r)
				in.SetTo(gocv.NewScalar(0, 0, 0, 0))
				in.Close()
				grey := gocv.NewMat()
				defer grey.Close()
				gocv.CvtColor(diff, &grey, gocv.ColorBGRToGray)
				if n := gocv.CountNonZero(grey); n != 0 {
					t.Errorf("%d pixels outside the region changed", n)
				}
			})
		}
	}
}

func TestParseStyle(t *testing.T) {
	for i, s := range Styles {
		if got, err := ParseStyle(s); err != nil || int(got) != i || got.String() != s {
			t.Errorf("ParseStyle(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseStyle("mosaic"); err == nil {
		t.Error("ParseStyle(mosaic): no error")
	}
}

// BenchmarkApply: the blur of one face's region, per style, for a face
// about 350 px wide at 1080p (a 540-px region) and one of 40 px at 360p.
func BenchmarkApply(b *testing.B) {
	for _, style := range []Style{Gaussian, Pixelate, Solid} {
		for _, side := range []int{540, 70} {
			b.Run(fmt.Sprintf("%s/%dpx", style, side), func(b *testing.B) {
				m := noise(1920, 1080)
				defer m.Close()
				bl := New(style)
				defer bl.Close()
				r := image.Rect(600, 200, 600+side, 200+side)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					bl.Apply(&m, r)
				}
			})
		}
	}
}
