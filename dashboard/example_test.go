package dashboard_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/steadyhq/steady/dashboard"
	"github.com/steadyhq/steady/resilience"
	"github.com/steadyhq/steady/resilience/breaker"
	"github.com/steadyhq/steady/resilience/monitor"
)

// Example mounts a dashboard under /steady/, registers a dependency's
// parts, and reads the JSON snapshot that the page is drawn from.
func Example() {
	d, err := dashboard.New(dashboard.Config{Title: "shop"})
	if err != nil {
		panic(err)
	}
	defer d.Close()

	m, _ := monitor.NewMetrics(monitor.Config{Name: "payments"})
	cb, _ := breaker.New(breaker.Settings{Name: "payments"})
	for range 3 {
		m.Record(20*time.Millisecond, resilience.OutcomeSuccess)
	}
	if err := d.Register("payments", dashboard.Parts{Metrics: m, Breaker: cb}); err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/steady/", http.StripPrefix("/steady", d)) // the page is at /steady/
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/steady/snapshot.json")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var s dashboard.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		panic(err)
	}
	c := s.Cards[0]
	fmt.Println(s.Title, c.Name, *c.Total, c.Breaker.State, c.Health)
	// Output:
	// shop payments 3 closed ok
}

// Example_events reads the first event of the stream that the page
// follows: the full state, with an id that a reconnecting browser sends
// back as Last-Event-ID.
func Example_events() {
	d, err := dashboard.New(dashboard.Config{})
	if err != nil {
		panic(err)
	}
	defer d.Close()
	_ = d.Register("users", dashboard.Parts{Metrics: &monitor.Metrics{}})
	srv := httptest.NewServer(d)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	for {
		line, _ := r.ReadString('\n')
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct {
				Type  string `json:"type"`
				Cards []struct {
					Name string `json:"name"`
				} `json:"cards"`
			}
			_ = json.Unmarshal([]byte(data), &ev)
			fmt.Println(ev.Type, ev.Cards[0].Name)
			return
		}
		if strings.HasPrefix(line, "id: ") {
			fmt.Println("id: EPOCH-SEQ")
		} else if line != "\n" {
			fmt.Print(line)
		}
	}
	// Output:
	// retry: 1000
	// id: EPOCH-SEQ
	// full users
}
