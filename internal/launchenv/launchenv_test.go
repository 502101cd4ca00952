package launchenv

import (
	"reflect"
	"testing"
)

func TestCore(t *testing.T) {
	tests := []struct {
		name     string
		env, out []string
	}{
		{"none set", []string{"HOME=/root"}, []string{"HOME=/root", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}},
		{"other tunables kept", []string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}},
		{"the user's choice wins", []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}},
		{"empty", []string{"GLIBC_TUNABLES="}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}},
	}
	for _, tt := range tests {
		if got := Core(tt.env); !reflect.DeepEqual(got, tt.out) {
			t.Errorf("%s: Core(%q) = %q, want %q", tt.name, tt.env, got, tt.out)
		}
	}
}
