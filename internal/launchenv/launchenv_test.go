package launchenv

import (
	"reflect"
	"testing"
)

func TestCore(t *testing.T) {
	const all = "glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"
	const blas = "OPENBLAS_NUM_THREADS=1"
	tests := []struct {
		name     string
		env, out []string
	}{
		{"none set", []string{"HOME=/root"}, []string{"HOME=/root", "GLIBC_TUNABLES=" + all, blas}},
		{"other tunables kept", []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"},
			[]string{"GLIBC_TUNABLES=glibc.pthread.rseq=0:" + all, blas}},
		{"the user's choice wins", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0:glibc.malloc.arena_max=4", "OPENBLAS_NUM_THREADS=2"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0:glibc.malloc.arena_max=4:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824", "OPENBLAS_NUM_THREADS=2"}},
		{"a name that contains another is not it", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb_x=1", "OPENBLAS_NUM_THREADS_X=2"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.hugetlb_x=1:" + all, "OPENBLAS_NUM_THREADS_X=2", blas}},
		{"empty", []string{"GLIBC_TUNABLES="}, []string{"GLIBC_TUNABLES=" + all, blas}},
	}
	for _, tt := range tests {
		if got := Core(tt.env); !reflect.DeepEqual(got, tt.out) {
			t.Errorf("%s: Core(%q) = %q, want %q", tt.name, tt.env, got, tt.out)
		}
	}
}
