package shardsim

import (
	"sort"
	"strings"
	"testing"
)

// TestRecommendedWithinTenPercent: the setting the README and the manifest
// recommend finishes within 10% of the ideal makespan (total work / pods)
// for 8 and 64 pods, on every one of 10 archives, and completions =
// parallelism does not (which is why the setting changed).
func TestRecommendedWithinTenPercent(t *testing.T) {
	m := Default()
	for _, pods := range []int{8, 64} {
		for seed := uint64(1); seed <= 10; seed++ {
			mm := m
			mm.Seed = seed
			vids := mm.Archive()
			r := mm.Run(vids, pods, Recommended)
			if r.Ratio() > 1.10 {
				t.Errorf("%d pods, archive %d: %s takes %.2f h, %.3f of the ideal %.2f h", pods, seed, r.Name, r.Makespan/3600, r.Ratio(), r.Ideal/3600)
			}
			if r.Ratio() < 1 {
				t.Errorf("%d pods, archive %d: makespan %.2f h below the ideal %.2f h: the model is wrong", pods, seed, r.Makespan/3600, r.Ideal/3600)
			}
			if pods == 64 {
				if eq := mm.Run(vids, pods, Setting{Multiple: 1}); eq.Ratio() < 1.2 {
					t.Errorf("archive %d: completions = parallelism = 64 came within %.3f of the ideal; the table says it should not", seed, eq.Ratio())
				}
			}
		}
	}
}

// TestArchiveMatchesTheModel: median about 3 minutes, the longest close to
// 3 hours, deterministic for a seed.
func TestArchiveMatchesTheModel(t *testing.T) {
	m := Default()
	a, b := m.Archive(), m.Archive()
	if len(a) != 10000 {
		t.Fatalf("%d videos", len(a))
	}
	var lengths []float64
	longest := 0.0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("video %d differs between two draws with one seed", i)
		}
		lengths = append(lengths, a[i].Length)
		longest = max(longest, a[i].Length)
	}
	med := median(lengths)
	if med < 165 || med > 195 {
		t.Errorf("median length %.0f s, want about 180", med)
	}
	if longest < 1.5*3600 || longest > 3*3600 {
		t.Errorf("longest %.0f s, want a tail to about 3 h", longest)
	}
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	return c[len(c)/2]
}

func TestPodTime(t *testing.T) {
	tests := []struct {
		works []float64
		jobs  int
		want  float64
	}{
		{nil, 2, 0},
		{[]float64{10}, 2, 10},
		{[]float64{10, 20, 30}, 1, 60},
		// Shared throughput: the pod is busy until the last video ends.
		{[]float64{10, 20, 30}, 2, 60},
		{[]float64{5, 5, 5, 5}, 3, 20},
	}
	for _, tt := range tests {
		if got := podTime(tt.works, tt.jobs); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("podTime(%v, %d) = %v, want %v", tt.works, tt.jobs, got, tt.want)
		}
	}
}

func TestListScheduleHandsIndicesOutInOrder(t *testing.T) {
	tests := []struct {
		durs []float64
		pods int
		want float64
	}{
		{[]float64{4, 1, 1, 1, 1}, 2, 4},
		// A long index late in the order is what makes completions =
		// parallelism-sized splits finish unevenly.
		{[]float64{1, 1, 1, 1, 4}, 2, 6},
		{[]float64{3, 3, 3}, 3, 3},
	}
	for _, tt := range tests {
		if got := listSchedule(tt.durs, tt.pods); got != tt.want {
			t.Errorf("listSchedule(%v, %d) = %v, want %v", tt.durs, tt.pods, got, tt.want)
		}
	}
}

func TestTableHasEveryRow(t *testing.T) {
	rows := Default().Table([]int{8}, 1)
	out := Format(rows)
	if len(rows) != len(Settings)+1 || !strings.Contains(out, "longest-first work queue") || !strings.Contains(out, "256 (32x parallelism, long-first") {
		t.Errorf("table:\n%s", out)
	}
}
