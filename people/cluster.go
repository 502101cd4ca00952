package people

import (
	"math"

	"github.com/vidtag/vidtag/gallery"
)

// Cluster groups descriptors by average linkage (UPGMA) with distance cut
// cut: two groups join while the mean Euclidean distance between their
// members is at most cut, nearest pair first. It returns a group number
// per descriptor, numbered 0, 1, ... in the order of each group's first
// member in descs.
//
// The result depends only on descs and cut (ties go to the lower index),
// so the same inputs give the same groups. It uses the nearest-neighbour
// chain algorithm: O(n²) time and n²/2 float32 of memory (10,000 stranger
// tracks: 200 MB).
func Cluster(descs []gallery.Descriptor, cut float64) []int {
	n := len(descs)
	parent := make([]int, n) // union-find over the merges
	for i := range parent {
		parent[i] = i
	}
	if n > 1 {
		d := newTriangle(n)
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				d.set(i, j, gallery.Distance(descs[i], descs[j]))
			}
		}
		size := make([]int, n)
		active := make([]bool, n)
		for i := range size {
			size[i], active[i] = 1, true
		}
		left := n
		var chain []int
		for left > 1 {
			if len(chain) == 0 {
				for i := range active {
					if active[i] {
						chain = append(chain, i)
						break
					}
				}
			}
			a := chain[len(chain)-1]
			prev := -1
			if len(chain) > 1 {
				prev = chain[len(chain)-2]
			}
			// a's nearest active neighbour; the previous link of the
			// chain wins a tie, so the chain cannot cycle.
			b, db := -1, math.Inf(1)
			if prev >= 0 {
				b, db = prev, d.get(a, prev)
			}
			for x := range active {
				if !active[x] || x == a {
					continue
				}
				if v := d.get(a, x); v < db {
					b, db = x, v
				}
			}
			if b != prev {
				chain = append(chain, b)
				continue
			}
			chain = chain[:len(chain)-2]
			if db > cut {
				// Reciprocal nearest neighbours farther than the cut:
				// average linkage never brings anything nearer to either
				// of them, so both are final groups.
				active[a], active[b] = false, false
				left -= 2
				continue
			}
			// Merge b into the lower index (Lance-Williams, average).
			keep, gone := min(a, b), max(a, b)
			for x := range active {
				if !active[x] || x == keep || x == gone {
					continue
				}
				v := (float64(size[keep])*d.get(keep, x) + float64(size[gone])*d.get(gone, x)) / float64(size[keep]+size[gone])
				d.set(keep, x, v)
			}
			size[keep] += size[gone]
			active[gone] = false
			parent[gone] = keep
			left--
		}
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	out := make([]int, n)
	number := map[int]int{}
	for i := range descs {
		r := find(i)
		g, ok := number[r]
		if !ok {
			g = len(number)
			number[r] = g
		}
		out[i] = g
	}
	return out
}

// triangle is a symmetric matrix without its diagonal, in float32.
type triangle struct{ v []float32 }

func newTriangle(n int) *triangle { return &triangle{v: make([]float32, n*(n-1)/2)} }

func (t *triangle) idx(i, j int) int {
	if i < j {
		i, j = j, i
	}
	return i*(i-1)/2 + j
}
func (t *triangle) get(i, j int) float64    { return float64(t.v[t.idx(i, j)]) }
func (t *triangle) set(i, j int, v float64) { t.v[t.idx(i, j)] = float32(v) }
