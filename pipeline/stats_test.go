package pipeline

import (
	"testing"
	"time"
)

// TestStatsAdd: the totals of two runs add step by step, by name; a step
// only the second run has is appended.
func TestStatsAdd(t *testing.T) {
	a := &Stats{Wall: 2 * time.Second, Steps: []StepStats{
		{Name: "read", Workers: 1, Items: 10, Busy: time.Second, queueSum: 4, queueN: 2, QueueMax: 3},
		{Name: "detect", Workers: 2, Items: 2, Busy: 3 * time.Second, WaitIn: time.Second},
	}}
	b := &Stats{Wall: 3 * time.Second, Steps: []StepStats{
		{Name: "read", Workers: 1, Items: 5, Busy: time.Second, queueSum: 2, queueN: 2, QueueMax: 1},
		{Name: "detect", Workers: 4, Items: 1, Busy: time.Second, WaitOut: time.Second},
		{Name: "blur", Workers: 1, Items: 5, Busy: time.Second},
	}}
	total := &Stats{}
	total.Add(a)
	total.Add(b)
	want := []StepStats{
		{Name: "read", Workers: 1, Items: 15, Busy: 2 * time.Second, queueSum: 6, queueN: 4, QueueMax: 3},
		{Name: "detect", Workers: 4, Items: 3, Busy: 4 * time.Second, WaitIn: time.Second, WaitOut: time.Second},
		{Name: "blur", Workers: 1, Items: 5, Busy: time.Second},
	}
	if total.Wall != 5*time.Second || len(total.Steps) != len(want) {
		t.Fatalf("wall %v, %d steps", total.Wall, len(total.Steps))
	}
	for i, w := range want {
		if total.Steps[i] != w {
			t.Errorf("step %d: %+v, want %+v", i, total.Steps[i], w)
		}
	}
	if got := total.Steps[0].QueueAvg(); got != 1.5 {
		t.Errorf("read's queue avg %v, want 1.5", got)
	}
}
