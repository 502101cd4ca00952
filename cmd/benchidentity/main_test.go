package main

import (
	"path/filepath"
	"testing"

	"github.com/vidtag/vidtag/internal/testenv"
)

// TestCrowdedTargets holds the new rule to the targets on the
// crowded descriptors (pure arithmetic: no models, a few seconds), and
// checks the old rule still shows the problem.
func TestCrowdedTargets(t *testing.T) {
	people, err := loadCrowded(filepath.Join(testenv.Data(t, "identities"), "crowded_descriptors.json"))
	if err != nil {
		t.Fatal(err)
	}
	res := measure(people, protocol{K: 10, Strangers: 20, Trials: 20, Seed: 1})
	for _, tg := range crowdedTargets {
		c, _, f := res[key{tg.e, tg.n, rules[1].name}].rates()
		if c < tg.minCorrect || f > tg.maxFalse {
			t.Errorf("%d enrolled, tracks of %d: correct-name %.3f (want >= %.2f), false-name %.3f (want <= %.2f)", tg.e, tg.n, c, tg.minCorrect, f, tg.maxFalse)
		}
	}
	if _, s, f := res[key{1, 1, rules[0].name}].rates(); s < 0.9 || f < 0.7 {
		t.Errorf("old rule: strangers named %.3f, false-name %.3f: the data no longer shows the problem", s, f)
	}
	// Deterministic: the same seed gives the same tallies.
	again := measure(people, protocol{K: 10, Strangers: 20, Trials: 2, Seed: 1})
	once := measure(people, protocol{K: 10, Strangers: 20, Trials: 2, Seed: 1})
	for k, v := range again {
		if once[k] != v {
			t.Fatalf("%v: %+v then %+v", k, v, once[k])
		}
	}
}
