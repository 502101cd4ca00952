package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/vidtag/vidtag/batch"
	"github.com/vidtag/vidtag/internal/shardsim"
	"github.com/vidtag/vidtag/internal/testenv"
)

// decodeJob reads a manifest strictly into the Kubernetes API's own Job
// type: an unknown or misspelt field, or a value of the wrong type, fails.
func decodeJob(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "configs", "k8s", name))
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict(raw, &job); err != nil {
		t.Fatalf("%s is not a valid batch/v1 Job: %v", name, err)
	}
	if job.APIVersion != "batch/v1" || job.Kind != "Job" || job.Name == "" {
		t.Fatalf("%s: apiVersion %q kind %q name %q", name, job.APIVersion, job.Kind, job.Name)
	}
	spec := job.Spec.Template.Spec
	if spec.RestartPolicy != corev1.RestartPolicyNever || len(spec.Containers) != 1 {
		t.Fatalf("%s: restartPolicy %q, %d containers; want Never (the Job retries) and one", name, spec.RestartPolicy, len(spec.Containers))
	}
	return &job
}

// checkFlags fails for any --flag the container passes that command lacks.
func checkFlags(t *testing.T, argv []string, flags []string) {
	t.Helper()
	names := map[string]bool{}
	for _, f := range flags {
		names[f] = true
	}
	for _, a := range argv {
		if name, ok := strings.CutPrefix(a, "--"); ok {
			if name, _, _ = strings.Cut(name, "="); !names[name] {
				t.Errorf("manifest uses unknown flag --%s", name)
			}
		}
	}
}

// argValue is the value of --name in argv (as --name=V or --name V).
func argValue(argv []string, name string) string {
	for i, a := range argv {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

// TestK8sManifest checks configs/k8s/batch-job.yaml against the Kubernetes
// API types: an Indexed Job of many small shards whose pods run vidtag
// batch with --shard $(JOB_COMPLETION_INDEX)/N, N its completions, in the
// setting the simulation recommends; and configs/k8s/merge-job.yaml, the
// step that merges their reports over the same volume.
func TestK8sManifest(t *testing.T) {
	job := decodeJob(t, "batch-job.yaml")
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || s.Parallelism == nil {
		t.Fatalf("not an Indexed Job with completions and parallelism: %+v", s)
	}
	comp, par := int(*s.Completions), int(*s.Parallelism)
	if comp != shardsim.Recommended.Multiple*par {
		t.Errorf("completions %d, parallelism %d: the simulation recommends completions = %d x parallelism", comp, par, shardsim.Recommended.Multiple)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1 {
		t.Error("no backoffLimitPerIndex: a failed pod's shard would not be retried on its own")
	}
	c := s.Template.Spec.Containers[0]
	argv := append(append([]string{}, c.Command...), c.Args...)
	line := strings.Join(argv, " ")
	want := "--shard $(JOB_COMPLETION_INDEX)/" + strconv.Itoa(comp)
	if len(c.Args) == 0 || c.Args[0] != "batch" || !strings.Contains(line, want) {
		t.Errorf("container runs %q, want vidtag batch ... %s", line, want)
	}
	if v := argValue(argv, "long-shards"); v != strconv.Itoa(par) {
		t.Errorf("--long-shards %q, want the parallelism %d (the long videos' shards start first)", v, par)
	}
	if size, err := batch.ParseSize(argValue(argv, "long-size")); err != nil || size != shardsim.LongSize {
		t.Errorf("--long-size %q (%v): want %d bytes, the simulated setting", argValue(argv, "long-size"), err, int64(shardsim.LongSize))
	}
	var names []string
	for _, f := range batchCommand().Flags {
		names = append(names, f.Names()...)
	}
	checkFlags(t, argv, names)
	if c.Resources.Requests.Cpu().MilliValue() != 2000 {
		t.Errorf("cpu request %v: the simulation's throughput is vidtag's on 2 cores", c.Resources.Requests.Cpu())
	}

	merge := decodeJob(t, "merge-job.yaml")
	mc := merge.Spec.Template.Spec.Containers[0]
	if len(mc.Args) < 2 || mc.Args[0] != "merge" || mc.Args[1] != argValue(argv, "output") {
		t.Errorf("merge job runs %v %v, want vidtag merge %s", mc.Command, mc.Args, argValue(argv, "output"))
	}
	// The crowd check across shards tags with the batch's settings: the
	// same input, known faces and every tagging flag the batch sets.
	margv := append([]string{}, mc.Args...)
	var mnames []string
	for _, f := range mergeCommand().Flags {
		mnames = append(mnames, f.Names()...)
	}
	checkFlags(t, margv, mnames)
	if len(argv) < 3 || argValue(margv, "input") != argv[2] {
		t.Errorf("merge --input %q, want the batch's input (%v)", argValue(margv, "input"), argv)
	}
	for _, f := range tagFlags() {
		name := f.Names()[0]
		if argValue(argv, name) != argValue(margv, name) {
			t.Errorf("--%s: batch %q, merge %q: the crowd check must tag as the batch did", name, argValue(argv, name), argValue(margv, name))
		}
	}
	claim := func(j *batchv1.Job) string {
		for _, v := range j.Spec.Template.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				return v.PersistentVolumeClaim.ClaimName
			}
		}
		return ""
	}
	if claim(job) == "" || claim(merge) != claim(job) {
		t.Errorf("volume claims %q and %q: the merge must see the batch's output", claim(job), claim(merge))
	}
}

// TestK8sDecodeIsStrict: the check above would catch a misspelt field.
func TestK8sDecodeIsStrict(t *testing.T) {
	for _, bad := range []string{
		"apiVersion: batch/v1\nkind: Job\nspec:\n  completion: 4\n",
		"apiVersion: batch/v1\nkind: Job\nspec:\n  completions: four\n",
	} {
		var job batchv1.Job
		if err := yaml.UnmarshalStrict([]byte(bad), &job); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
