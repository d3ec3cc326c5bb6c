// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// trackAnswer is ingestion's answer to one track request.
type trackAnswer struct {
	status     int
	retryAfter time.Duration // 0 when absent
	parsed     bool          // whether the body was ingestion's JSON
	body       trackprotocol.Response
}

// maxAnswer bounds how much of an answer is read: ingestion's are small,
// and a proxy's error page must not fill the memory.
const maxAnswer = 4 << 20

// readAnswerBody reads and closes an answer's body, at most maxAnswer of
// it.
func readAnswerBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
}

func readAnswer(status int, header http.Header, body []byte, now time.Time) trackAnswer {
	a := trackAnswer{status: status, retryAfter: parseRetryAfter(header.Get("Retry-After"), now)}
	a.parsed = json.Unmarshal(body, &a.body) == nil
	return a
}

// parseRetryAfter reads both forms HTTP allows: seconds, or a date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// allAcceptedOf reports whether ingestion took all of a request of items:
// a 200, or a 206 that counts every item received and accepted.
func (a trackAnswer) allAcceptedOf(items int) bool {
	return a.status == http.StatusOK ||
		(a.status == http.StatusPartialContent && a.parsed &&
			a.body.ItemsReceived == items && a.body.ItemsAccepted == items && len(a.body.Errors) == 0)
}

// itemErrorsOf returns the failed items of a request of items, by index,
// when the answer says exactly which: it counts the request's items, its
// errors and acceptances add up, and every index is in range and named
// once. Otherwise it is not to be trusted item by item.
func (a trackAnswer) itemErrorsOf(items int) (map[int]trackprotocol.ItemError, bool) {
	if !a.parsed || len(a.body.Errors) == 0 || a.body.ItemsReceived != items ||
		a.body.ItemsAccepted+len(a.body.Errors) != items {
		return nil, false
	}
	failed := make(map[int]trackprotocol.ItemError, len(a.body.Errors))
	for _, e := range a.body.Errors {
		if _, seen := failed[e.Index]; seen || e.Index < 0 || e.Index >= items {
			return nil, false
		}
		failed[e.Index] = e
	}
	return failed, true
}

func (a trackAnswer) allAccepted() bool {
	return a.status == http.StatusOK ||
		(a.status == http.StatusPartialContent && a.parsed && a.body.ItemsAccepted == a.body.ItemsReceived)
}

// hasItemErrors reports whether the answer says, item by item, what failed.
func (a trackAnswer) hasItemErrors() bool { return a.parsed && len(a.body.Errors) > 0 }

// itemSummary counts an answer's item errors by status code.
type itemSummary struct {
	byStatus map[int]int
	retry    int
	rejected int
	messages []string // the first few distinct ones
}

func summarizeItems(errs []trackprotocol.ItemError) itemSummary {
	s := itemSummary{byStatus: map[int]int{}}
	for _, e := range errs {
		s.byStatus[e.StatusCode]++
		if trackprotocol.RetryableItem(e.StatusCode) {
			s.retry++
		} else {
			s.rejected++
		}
		if len(s.messages) < 3 && !slices.Contains(s.messages, e.Message) {
			s.messages = append(s.messages, e.Message)
		}
	}
	return s
}

// fields describes the summary in a log line; never the items themselves,
// which hold the instrumentation key.
func (s itemSummary) fields() []zap.Field {
	codes := make([]int, 0, len(s.byStatus))
	for c := range s.byStatus {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", s.byStatus[c], c)
	}
	messages := slices.Clone(s.messages)
	slices.Sort(messages)
	return []zap.Field{
		zap.String("item_errors", strings.Join(parts, ", ")),
		zap.String("messages", strings.Join(messages, "; ")),
	}
}
