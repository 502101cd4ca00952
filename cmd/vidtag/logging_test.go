package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/zap"
)

func TestLogGate(t *testing.T) {
	tests := []struct {
		name string
		open bool
		want []string
	}{
		{"open writes what was held, then passes entries through", true, []string{"held", "after"}},
		{"drop discards what was held and what follows", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var gate logGate
			log := gate.Logger(newLogger(&buf, "console", "info")).With(zap.String("stage", "env")) // With keeps the gate
			log.Info("held")
			if buf.Len() != 0 {
				t.Fatalf("wrote before the gate opened: %q", buf.String())
			}
			if tt.open {
				gate.Open()
			} else {
				gate.Drop()
			}
			log.Info("after")
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if f := strings.Fields(l); len(f) >= 3 {
					got = append(got, f[2])
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("logged %q, want %q", got, tt.want)
			}
		})
	}
}
