// Command benchidentity measures vidtag's identity decision (package
// identity) on two sets of faces, for the old rule and the new one
// (make bench-identity):
//
//   - crowded: identities/crowded_descriptors.json, 84 people the dlib model
//     crowds together (92% of pairs of different people within 0.6);
//   - photos: the 62 photos in identities/ (13 people, identities.csv), whose
//     descriptors are computed here with go-face (package recog); a
//     population the model separates well.
//
// Each trial enrolls K people with E descriptors each and probes with the
// rest: every enrolled person's other descriptors and every stranger's, in
// groups of N averaged like a track's descriptors. The probes play the part
// of the tracks of one video, in a shuffled order, so the new rule's cohort
// holds the probes decided Unknown before. Trials are seeded: the output is
// the same on every run.
//
//	go run ./cmd/benchidentity -data ../shared/testdata [-trials 20] [-photos=false]
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/vidtag/vidtag/gallery"
	"github.com/vidtag/vidtag/identity"
	"github.com/vidtag/vidtag/models"
	"github.com/vidtag/vidtag/recog"
)

func main() {
	data := flag.String("data", "../shared/testdata", "shared test data folder")
	modelsDir := flag.String("models", "", "dlib models folder (default: $VIDTAG_MODELS or ./models)")
	trials := flag.Int("trials", 20, "seeded trials per configuration")
	seed := flag.Int64("seed", 1, "seed of the first trial")
	photos := flag.Bool("photos", true, "also run the photo set (computes 62 descriptors with go-face, ~1 min)")
	flag.Parse()
	if err := run(os.Stdout, *data, *modelsDir, *trials, *seed, *photos); err != nil {
		fmt.Fprintln(os.Stderr, "benchidentity:", err)
		os.Exit(1)
	}
}

// person is one identity's descriptors.
type person struct {
	name  string
	descs []gallery.Descriptor
}

func run(w io.Writer, data, modelsDir string, trials int, seed int64, withPhotos bool) error {
	crowded, err := loadCrowded(filepath.Join(data, "identities", "crowded_descriptors.json"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "crowded set: %d people, %d descriptors; K=10 enrolled, 20 strangers, %d trials\n", len(crowded), count(crowded), trials)
	check(w, "crowded", report(w, crowded, protocol{K: 10, Strangers: 20, Trials: trials, Seed: seed}), crowdedTargets)
	if !withPhotos {
		return nil
	}
	ps, skipped, err := loadPhotos(filepath.Join(data, "identities"), modelsDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nphoto set: %d people, %d photos embedded (%d without a face); K=6 enrolled, the other 7 strangers, %d trials\n",
		len(ps), count(ps), skipped, trials)
	check(w, "photos", report(w, ps, protocol{K: 6, Strangers: 7, Trials: trials, Seed: seed}), photoTargets)
	return nil
}

func count(ps []person) int {
	n := 0
	for _, p := range ps {
		n += len(p.descs)
	}
	return n
}

// rule is one decision rule under test.
type rule struct {
	name   string
	auto   bool // calibrate the tolerance from the enrolled set (else 0.6)
	rule   identity.Rule
	cohort bool // keep the probes decided Unknown as the crowd
}

var rules = []rule{
	{name: "before: nearest face within 0.6", rule: identity.Rule{Tolerance: 0.6}},
	{name: "new: auto tolerance, margin, crowd", auto: true, rule: identity.DefaultRule(0), cohort: true},
	{name: "  new without the crowd", auto: true, rule: identity.Rule{Ratio: identity.DefaultRatio}},
	{name: "  new without the margin", auto: true, rule: identity.Rule{Ratio: 100, CrowdRatio: identity.DefaultCrowdRatio}, cohort: true},
	{name: "  new with a fixed 0.6", rule: identity.DefaultRule(0.6), cohort: true},
}

type protocol struct {
	K, Strangers, Trials int
	Seed                 int64
}

// tally counts one configuration's outcomes.
type tally struct {
	knownProbes, correct, wrong   int // probes of enrolled people; named right; named as someone else
	strangerProbes, strangerNamed int
	tolSum                        float64
}

func (t tally) rates() (correct, strangers, falseName float64) {
	named := t.correct + t.wrong + t.strangerNamed
	correct = float64(t.correct) / float64(max(1, t.knownProbes))
	strangers = float64(t.strangerNamed) / float64(max(1, t.strangerProbes))
	if named > 0 {
		falseName = float64(t.wrong+t.strangerNamed) / float64(named)
	}
	return
}

// key names one row of the results.
type key struct {
	e, n int
	rule string
}

// measure runs every configuration and returns the tallies.
func measure(people []person, p protocol) map[key]tally {
	out := map[key]tally{}
	for _, e := range []int{1, 3} {
		for _, n := range []int{1, 3} {
			for _, r := range rules {
				var t tally
				for trial := 0; trial < p.Trials; trial++ {
					t = add(t, runTrial(people, p, e, n, r, p.Seed+int64(trial)))
				}
				out[key{e, n, r.name}] = t
			}
		}
	}
	return out
}

// target is one of the targets for the new rule.
type target struct {
	e, n                 int
	minCorrect, maxFalse float64
}

func check(w io.Writer, set string, res map[key]tally, targets []target) {
	for _, tg := range targets {
		c, _, f := res[key{tg.e, tg.n, rules[1].name}].rates()
		verdict := "met"
		if c < tg.minCorrect || f > tg.maxFalse {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "target %s %d enrolled / tracks of %d: correct-name %.3f (want >= %.2f), false-name %.3f (want <= %.2f): %s\n",
			set, tg.e, tg.n, c, tg.minCorrect, f, tg.maxFalse, verdict)
	}
}

// The targets.
var (
	crowdedTargets = []target{{3, 3, 0.70, 0.10}, {1, 1, 0, 0.25}}
	photoTargets   = []target{{3, 3, 0.95, 0.02}}
)

func report(w io.Writer, people []person, p protocol) map[key]tally {
	res := measure(people, p)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "enrolled\ttrack\trule\ttolerance\tcorrect-name\tstrangers named\tfalse-name\tprobes (known/strangers)")
	for _, e := range []int{1, 3} {
		for _, n := range []int{1, 3} {
			for _, r := range rules {
				t := res[key{e, n, r.name}]
				c, s, f := t.rates()
				fmt.Fprintf(tw, "%d\t%d\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t%d/%d\n", e, n, r.name, t.tolSum/float64(p.Trials), c, s, f, t.knownProbes, t.strangerProbes)
			}
		}
	}
	tw.Flush()
	return res
}

func add(a, b tally) tally {
	return tally{a.knownProbes + b.knownProbes, a.correct + b.correct, a.wrong + b.wrong,
		a.strangerProbes + b.strangerProbes, a.strangerNamed + b.strangerNamed, a.tolSum + b.tolSum}
}

type probe struct {
	who  string // true identity
	desc gallery.Descriptor
}

// runTrial enrolls e descriptors of K people, probes with groups of n and
// counts the outcomes of rule r. The same seed picks the same people,
// descriptors and order for every rule.
func runTrial(people []person, p protocol, e, n int, r rule, seed int64) tally {
	rng := rand.New(rand.NewSource(seed*1000 + int64(e)*10 + int64(n)))
	var eligible, others []int
	for i, ps := range people {
		if len(ps.descs) > e {
			eligible = append(eligible, i)
		} else {
			others = append(others, i)
		}
	}
	rng.Shuffle(len(eligible), func(i, j int) { eligible[i], eligible[j] = eligible[j], eligible[i] })
	k := min(p.K, len(eligible))
	pool := append(append([]int(nil), eligible[k:]...), others...)
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	strangers := pool[:min(p.Strangers, len(pool))]

	var labels []string
	var enrolled []gallery.Descriptor
	var probes []probe
	group := func(who string, ds []gallery.Descriptor) {
		for i := 0; i < len(ds); i += n {
			probes = append(probes, probe{who, identity.Mean(ds[i:min(i+n, len(ds))])})
		}
	}
	isKnown := map[string]bool{}
	for _, i := range eligible[:k] {
		ds := shuffled(rng, people[i].descs)
		for _, d := range ds[:e] {
			labels = append(labels, people[i].name)
			enrolled = append(enrolled, d)
		}
		isKnown[people[i].name] = true
		group(people[i].name, ds[e:])
	}
	for _, i := range strangers {
		group(people[i].name, shuffled(rng, people[i].descs))
	}
	rng.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })

	known := identity.New(labels, enrolled)
	rl := r.rule
	if rl.Tolerance == 0 {
		rl.Tolerance = 0.6
	}
	if r.auto {
		rl.Tolerance = identity.Calibrate(known).Tolerance
	}
	t := tally{tolSum: rl.Tolerance}
	var cohort []gallery.Descriptor
	for _, pr := range probes {
		var c []gallery.Descriptor
		if r.cohort {
			c = cohort
		}
		d := known.Decide(pr.desc, c, rl)
		if !d.Known {
			cohort = append(cohort, pr.desc)
		}
		switch {
		case isKnown[pr.who]:
			t.knownProbes++
			if d.Known && d.Label == pr.who {
				t.correct++
			} else if d.Known {
				t.wrong++
			}
		default:
			t.strangerProbes++
			if d.Known {
				t.strangerNamed++
			}
		}
	}
	return t
}

func shuffled(rng *rand.Rand, ds []gallery.Descriptor) []gallery.Descriptor {
	out := append([]gallery.Descriptor(nil), ds...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func loadCrowded(path string) ([]person, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		People []struct {
			Person      string      `json:"person"`
			Descriptors [][]float32 `json:"descriptors"`
		} `json:"people"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []person
	for _, p := range doc.People {
		ps := person{name: p.Person}
		for _, d := range p.Descriptors {
			if len(d) != 128 {
				return nil, fmt.Errorf("%s: %s: a descriptor of %d values, want 128", path, p.Person, len(d))
			}
			ps.descs = append(ps.descs, gallery.Descriptor(d))
		}
		out = append(out, ps)
	}
	return out, nil
}

// loadPhotos computes the descriptor of the largest face of each photo
// listed in identities.csv, as vidtag enrolls a known photo.
func loadPhotos(dir, modelsDir string) ([]person, int, error) {
	f, err := os.Open(filepath.Join(dir, "identities.csv"))
	if err != nil {
		return nil, 0, err
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", f.Name(), err)
	}
	mdir, err := models.Locate(modelsDir)
	if err != nil {
		return nil, 0, err
	}
	e, err := recog.NewHOG(mdir)
	if err != nil {
		return nil, 0, err
	}
	defer e.Close()
	byName := map[string]*person{}
	var names []string
	skipped := 0
	for _, row := range rows[1:] {
		faces, err := e.FacesInPhoto(filepath.Join(dir, row[0]), 4_000_000)
		if err != nil {
			return nil, 0, err
		}
		if len(faces) == 0 {
			skipped++
			continue
		}
		sort.SliceStable(faces, func(i, j int) bool {
			a, b := faces[i].Box, faces[j].Box
			return a.Dx()*a.Dy() > b.Dx()*b.Dy()
		})
		p := byName[row[1]]
		if p == nil {
			p = &person{name: row[1]}
			byName[row[1]] = p
			names = append(names, row[1])
		}
		p.descs = append(p.descs, gallery.Descriptor(faces[0].Descriptor))
	}
	sort.Strings(names)
	out := make([]person, len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out, skipped, nil
}
