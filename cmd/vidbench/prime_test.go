package main

import "testing"

func TestPrimeMemory(t *testing.T) {
	for _, mb := range []int{0, 1, 8} {
		if err := primeMemory(mb); err != nil {
			t.Errorf("primeMemory(%d): %v", mb, err)
		}
	}
}
