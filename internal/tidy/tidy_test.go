package tidy

import (
	"errors"
	"math"
	"testing"
)

func TestRound(t *testing.T) {
	tests := []struct {
		v      float64
		places int
		want   float64
	}{
		{1.23456, 2, 1.23}, {1.235, 2, 1.24}, {2.5, 0, 3}, {-2.5, 0, -3}, {0.0005, 3, 0.001}, {0.61249, 3, 0.612},
		{29.97002997, 2, 29.97}, {12.3456789, 3, 12.346}, {0, 3, 0}, {math.Inf(1), 2, math.Inf(1)},
	}
	for _, tt := range tests {
		if got := Round(tt.v, tt.places); got != tt.want {
			t.Errorf("Round(%v, %d) = %v, want %v", tt.v, tt.places, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"  two\nlines \t and  tabs\n", "two lines and tabs"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in); got != tt.want {
			t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorLine(t *testing.T) {
	if got := ErrorLine(errors.New("ffmpeg failed:\n  x264: bad\n")); got != "ffmpeg failed:; x264: bad;" {
		t.Errorf("ErrorLine = %q", got)
	}
}
