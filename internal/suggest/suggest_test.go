package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"min_alpha", "min_alhpa", 2}, {"same", "same", 0}} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	names := []string{"epochs", "seeds", "batch-size", "min_alpha", "max_alpha"}
	for _, c := range []struct{ in, want string }{
		{"epoch", "epochs"}, {"Seeds", "seeds"}, {"batch-sise", "batch-size"},
		{"min_alhpa", "min_alpha"}, {"completely-different", ""},
	} {
		if got := Closest(c.in, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
