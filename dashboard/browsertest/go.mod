module github.com/steadyhq/steady/dashboard/browsertest

go 1.26.0

replace github.com/steadyhq/steady => ../..

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/steadyhq/steady v0.0.0
	go.uber.org/goleak v1.3.0
)

require github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
