package people

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
	"github.com/vidtag/vidtag/internal/testenv"
)

// TestClusterCrowded measures the clustering rule on the population dlib
// crowds together (identities/crowded_descriptors.json: 84 people, one
// descriptor per photo) at several cuts, and at the cut the calibration
// gives when half of them are known (3 photos each). It is the limit
// stated in the README: no cut both keeps groups pure and people whole.
func TestClusterCrowded(t *testing.T) {
	b, err := os.ReadFile(testenv.Data(t, "identities", "crowded_descriptors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		People []struct {
			Person      string
			Descriptors [][]float32
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	var descs, kd []gallery.Descriptor
	var who []int
	var labels []string
	for i, p := range d.People {
		for j, x := range p.Descriptors {
			var g gallery.Descriptor
			copy(g[:], x)
			descs = append(descs, g)
			who = append(who, i)
			if j < 3 && i%2 == 0 {
				labels, kd = append(labels, p.Person), append(kd, g)
			}
		}
	}
	c := identity.Calibrate(identity.New(labels, kd))
	cut := min(c.Tolerance, c.Between)
	measure := func(cut float64) (purity float64, clusters, split int) {
		g := Cluster(descs, cut)
		count := map[int]map[int]int{}
		per := map[int]map[int]bool{}
		for i, x := range g {
			if count[x] == nil {
				count[x] = map[int]int{}
			}
			count[x][who[i]]++
			if per[who[i]] == nil {
				per[who[i]] = map[int]bool{}
			}
			per[who[i]][x] = true
		}
		pure := 0
		for _, m := range count {
			best := 0
			for _, v := range m {
				best = max(best, v)
			}
			pure += best
		}
		for _, m := range per {
			if len(m) > 2 {
				split++
			}
		}
		return float64(pure) / float64(len(g)), len(count), split
	}
	t.Logf("%d descriptors of %d people; calibration on half of them: %s; cluster cut %.3f", len(descs), len(d.People), c, cut)
	for _, x := range []float64{0.3, 0.35, 0.4, 0.45, 0.5, 0.6, cut} {
		p, n, s := measure(x)
		t.Logf("cut %.3f: %d clusters, purity %.3f, people in more than 2 clusters %d of %d", x, n, p, s, len(d.People))
	}
	if p, _, _ := measure(0.3); p < 0.95 {
		t.Errorf("cut 0.3: purity %.3f; it was 0.974", p)
	}
	if p, _, _ := measure(cut); p < 0.85 {
		t.Errorf("calibrated cut %.3f: purity %.3f; it was 0.905", cut, p)
	}
}
