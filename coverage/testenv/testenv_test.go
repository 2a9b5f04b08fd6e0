package testenv

import "testing"

func TestCI(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{
		{"", false}, {"true", true}, {"TRUE", true}, {"True", true}, {"1", true},
		{"yes", true}, {"on", true}, {" true ", true}, {"false", false}, {"0", false},
		{"no", false}, {"off", false}, {"maybe", false},
	} {
		t.Setenv("CI", c.value)
		if got := CI(); got != c.want {
			t.Errorf("CI=%q: CI() = %v, want %v", c.value, got, c.want)
		}
	}
}
