package prometheus_test

import (
	"os"
	"os/exec"
	"testing"
)

// promtool returns the path of promtool (Debian package prometheus). It
// skips the test when there is none, but fails it under CI=true, where
// .ci/run has installed it.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found with CI=true (.ci/run installs Debian's prometheus package): %v", err)
		}
		t.Skip("promtool not found: install it (apt-get install prometheus) to check rules/steady.rules.yml")
	}
	// Read the files here too: go test caches a result by the files the
	// test binary opens, and promtool's reads are not seen.
	for _, f := range []string{"rules/steady.rules.yml", "rules/steady.rules.test.yml"} {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestRulesCheck runs promtool check rules on the alerting rules.
func TestRulesCheck(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", "rules/steady.rules.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestRulesFire runs the rules' unit tests (rules/steady.rules.test.yml):
// the pages and the ticket fire on the burn rates they are meant for, and
// not below them.
func TestRulesFire(t *testing.T) {
	cmd := exec.Command(promtool(t), "test", "rules", "steady.rules.test.yml")
	cmd.Dir = "rules"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
