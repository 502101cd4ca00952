package identity

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/internal/testenv"
)

func desc(vals ...float32) Descriptor {
	var d Descriptor
	copy(d[:], vals)
	return d
}

// at returns base moved by dist along axis ax.
func at(base Descriptor, ax int, dist float32) Descriptor {
	base[ax] += dist
	return base
}

func TestDecide(t *testing.T) {
	ann, bob := desc(1), desc(0, 1) // 1.41 apart
	twin := desc(0.9, 0.3)          // Ann's look-alike: 0.32 from Ann, 1.06 from Bob
	photos := []Descriptor{at(ann, 5, 0.1), bob, at(ann, 5, -0.1)}
	k := New([]string{"Ann", "Bob", "Ann"}, photos)
	// Cy: Ann's close look-alike (0.3 from her); Dee: less close (0.45).
	withCy := append(append([]Descriptor(nil), photos...), at(ann, 8, 0.3))
	withDee := append(append([]Descriptor(nil), photos...), at(ann, 9, 0.45))
	sets := map[string]*Known{
		"":    k,
		"Cy":  New([]string{"Ann", "Bob", "Ann", "Cy"}, withCy),
		"Dee": New([]string{"Ann", "Bob", "Ann", "Dee"}, withDee),
	}
	setPhotos := map[string][]Descriptor{"": photos, "Cy": withCy, "Dee": withDee}
	farFace := at(at(ann, 10, float32(math.Sqrt(0.3264))), 9, 0.1) // 0.58 from Ann, 0.67 from Dee
	rule := DefaultRule(0.6)
	tests := []struct {
		name      string
		set       string // "" (Ann, Bob), "Cy" or "Dee" besides
		face      Descriptor
		strangers []Descriptor
		want      string
		margin    float64 // NaN: no margin expected
		crowd     float64
	}{
		{"near Ann, far from Bob", "", at(ann, 7, 0.3), nil, "Ann", 0.3 / math.Sqrt(2+0.09), math.NaN()},
		{"beyond the tolerance", "", at(ann, 7, 0.65), nil, gallery.Unknown, 0.65 / math.Sqrt(2+0.65*0.65), math.NaN()},
		{"halfway between Ann and Bob", "", desc(0.5, 0.5), nil, gallery.Unknown, 1, math.NaN()},
		// 0.55 from Ann, 0.63 from Cy: Cy is a rival.
		{"about as near a look-alike", "Cy", at(ann, 7, 0.55), nil, gallery.Unknown, 0.55 / math.Sqrt(0.55*0.55+0.09), math.NaN()},
		// 0.58 from Ann, 0.67 from Dee: beyond 0.65, Dee is no rival.
		{"the next person beyond any tolerance", "Dee", farFace, nil, "Ann", 0.58 / 0.67, math.NaN()},
		{"nearer a stranger of the video than Ann", "", at(ann, 7, 0.3), []Descriptor{at(ann, 7, 0.5)}, gallery.Unknown, 0.3 / math.Sqrt(2+0.09), 0.3 / 0.2},
		{"nearer Ann than any stranger", "", at(ann, 7, 0.2), []Descriptor{twin, bob}, "Ann", 0.2 / math.Sqrt(2+0.04), 0.2 / math.Sqrt(0.01+0.09+0.04)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := sets[tt.set].Decide(tt.face, tt.strangers, rule)
			if d.Label != tt.want || d.Known != (tt.want != gallery.Unknown) {
				t.Fatalf("%+v, want %s", d, tt.want)
			}
			if !near(d.Margin, tt.margin) || !near(d.Crowd, tt.crowd) {
				t.Errorf("margin %.4f crowd %.4f, want %.4f %.4f", d.Margin, d.Crowd, tt.margin, tt.crowd)
			}
			// The sidecar's distance stays the plain distance to the nearest known face.
			want := math.Inf(1)
			for _, p := range setPhotos[tt.set] {
				want = math.Min(want, gallery.Distance(tt.face, p))
			}
			if !near(d.Distance, want) {
				t.Errorf("distance %.4f, want the nearest face's %.4f", d.Distance, want)
			}
		})
	}
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) < 1e-5
}

func TestDecideNobodyKnown(t *testing.T) {
	d := New(nil, nil).Decide(desc(1), nil, DefaultRule(0.6))
	if d.Known || d.Label != gallery.Unknown || !math.IsNaN(d.Distance) || !math.IsNaN(d.Margin) {
		t.Errorf("%+v", d)
	}
	// One known person: no margin, the tolerance and the crowd decide.
	k := New([]string{"Ann"}, []Descriptor{desc(1)})
	if d := k.Decide(desc(1, 0.3), nil, DefaultRule(0.6)); !d.Known || !math.IsNaN(d.Margin) {
		t.Errorf("one person: %+v", d)
	}
}

func TestCalibrate(t *testing.T) {
	one := New([]string{"Ann", "Bob"}, []Descriptor{desc(1), desc(0, 1)})
	if c := Calibrate(one); c.Tolerance != MaxTolerance || !math.IsNaN(c.Within) {
		t.Errorf("far apart, one photo each: %+v", c)
	}
	close := New([]string{"Ann", "Bob"}, []Descriptor{desc(0.3), desc(0, 0.3)}) // 0.42 apart
	if c := Calibrate(close); !near(c.Tolerance, 0.382) {
		t.Errorf("0.42 apart: tolerance %.3f, want 0.382 (0.9 x 0.42)", c.Tolerance)
	}
	closer := New([]string{"Ann", "Bob"}, []Descriptor{desc(0.1), desc(0, 0.1)})
	if c := Calibrate(closer); c.Tolerance != MinTolerance {
		t.Errorf("0.14 apart: tolerance %.3f, want the minimum %.3f", c.Tolerance, MinTolerance)
	}
	// Three photos each: a quarter of the way from the people's own spread
	// to how close they come to each other.
	spread := New([]string{"Ann", "Ann", "Ann", "Bob", "Bob", "Bob"}, []Descriptor{
		desc(1, 0, 0.2), desc(1, 0, -0.2), desc(1, 0, 0, 0.2), desc(0, 1, 0.2), desc(0, 1, -0.2), desc(0, 1, 0, 0.2)})
	c := Calibrate(spread)
	if want := c.Within + (c.Between-c.Within)/4; !near(c.Tolerance, math.Round(want*1000)/1000) || c.WithinPairs != 6 {
		t.Errorf("%+v, want tolerance %.3f", c, want)
	}
	if c := Calibrate(New(nil, nil)); c.Tolerance != MaxTolerance {
		t.Errorf("empty: %+v", c)
	}
}

// crowded loads the crowded descriptors (84 people the model crowds together).
func crowded(t *testing.T) (names []string, descs [][]Descriptor) {
	path := testenv.Data(t, "identities", "crowded_descriptors.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		People []struct {
			Person      string       `json:"person"`
			Descriptors []Descriptor `json:"descriptors"`
		} `json:"people"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.People {
		names = append(names, p.Person)
		descs = append(descs, p.Descriptors)
	}
	return names, descs
}

// TestCrowdedStrangers: on the crowded population, enroll 10 people with 3
// descriptors each and probe with tracks (means of 3) of the next 20
// people. The old rule names nearly every stranger; the new one few, and
// it still names most of the enrolled people's other tracks. The crowd is
// the strangers' other tracks, as in a video.
func TestCrowdedStrangers(t *testing.T) {
	names, all := crowded(t)
	var labels []string
	var enrolled []Descriptor
	var own []Descriptor // tracks of enrolled people
	var ownWho []string
	for i := 0; i < 10; i++ {
		for _, d := range all[i][:3] {
			labels, enrolled = append(labels, names[i]), append(enrolled, d)
		}
		for j := 3; j+3 <= len(all[i]); j += 3 {
			own, ownWho = append(own, Mean(all[i][j:j+3])), append(ownWho, names[i])
		}
	}
	var strangers [][]Descriptor // per stranger, its tracks
	for i := 10; i < 30; i++ {
		var tracks []Descriptor
		for j := 0; j+3 <= len(all[i]); j += 3 {
			tracks = append(tracks, Mean(all[i][j:j+3]))
		}
		strangers = append(strangers, tracks)
	}
	k := New(labels, enrolled)
	rule := DefaultRule(Calibrate(k).Tolerance)
	oldNamed, newNamed, tracks := 0, 0, 0
	for s, ts := range strangers {
		for j, x := range ts {
			tracks++
			if k.Decide(x, nil, Rule{Tolerance: 0.6}).Known {
				oldNamed++
			}
			// The crowd: the other strangers' tracks and this one's others.
			var crowd []Descriptor
			for s2, ts2 := range strangers {
				for j2, y := range ts2 {
					if s2 != s || j2 != j {
						crowd = append(crowd, y)
					}
				}
			}
			if k.Decide(x, crowd, rule).Known {
				newNamed++
			}
		}
	}
	correct := 0
	for i, x := range own {
		if d := k.Decide(x, nil, rule); d.Known && d.Label == ownWho[i] {
			correct++
		}
	}
	t.Logf("tolerance %.3f; strangers' tracks named: old %d, new %d of %d; enrolled tracks named right: %d of %d",
		rule.Tolerance, oldNamed, newNamed, tracks, correct, len(own))
	if float64(oldNamed) < 0.9*float64(tracks) {
		t.Fatalf("test data too easy: the old rule names only %d of %d strangers", oldNamed, tracks)
	}
	if float64(newNamed) > 0.05*float64(tracks) {
		t.Errorf("new rule names %d of %d strangers' tracks, want at most 5%%", newNamed, tracks)
	}
	if float64(correct) < 0.6*float64(len(own)) {
		t.Errorf("new rule names %d of %d enrolled tracks right, want 60%% or more", correct, len(own))
	}
}

// TestCheckCrowded: Check finds the closest pair of the crowded population
// as look-alikes, and a descriptor of one person filed under another.
func TestCheckCrowded(t *testing.T) {
	names, all := crowded(t)
	// The two people with the closest means, plus two far from both.
	means := make([]Descriptor, len(all))
	for i := range all {
		means[i] = Mean(all[i])
	}
	type pair struct {
		i, j int
		d    float64
	}
	var pairs []pair
	for i := range means {
		for j := i + 1; j < len(means); j++ {
			pairs = append(pairs, pair{i, j, gallery.Distance(means[i], means[j])})
		}
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a].d < pairs[b].d })
	a, b := pairs[0].i, pairs[0].j
	far := pairs[len(pairs)-1]
	var labels []string
	var descs []Descriptor
	add := func(label string, ds ...Descriptor) {
		for _, d := range ds {
			labels, descs = append(labels, label), append(descs, d)
		}
	}
	add(names[a], all[a][:4]...)
	add(names[b], all[b][:4]...)
	add(names[far.i], all[far.i][:4]...)
	add(names[far.j], all[far.j][:4]...)
	rep := Check(New(labels, descs), nil)
	if len(rep.LookAlikes) == 0 || rep.LookAlikes[0].A != min(names[a], names[b]) || rep.LookAlikes[0].B != max(names[a], names[b]) {
		t.Errorf("look-alikes %+v, want %s ~ %s first", rep.LookAlikes, names[a], names[b])
	}
	if !rep.Unreliable() {
		t.Error("look-alikes but the set is reliable")
	}

	// Misfiled: one of far.i's descriptors in far.j's folder.
	labels, descs = nil, nil
	add(names[far.i], all[far.i][:4]...)
	add(names[far.j], all[far.j][:4]...)
	add(names[far.j], all[far.i][5])
	rep = Check(New(labels, descs), nil)
	if len(rep.Outliers) != 1 || rep.Outliers[0].Person != names[far.j] || rep.Outliers[0].Photo != 4 || rep.Outliers[0].Like != names[far.i] {
		t.Fatalf("outliers %+v, want photo 5 of %s, like %s", rep.Outliers, names[far.j], names[far.i])
	}
}
