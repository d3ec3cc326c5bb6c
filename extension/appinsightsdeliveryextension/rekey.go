// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package appinsightsdeliveryextension // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension"

// This file holds what becomes of a backlog that ingestion refuses for
// its instrumentation key once the operator has fixed the connection
// string: the spooled envelopes still carry the old key, so sending them
// again as they are would be refused for ever. With spool.rekey_refused,
// when every request spooled since the collector started carried one
// key, that key is the one the operator meant, and the backlog is sent
// with it, once per request. The endpoint the request is sent to is not
// rewritten.

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsdeliveryextension/internal/spool"
	"github.com/otelcol-runcontext/otelcol-runcontext/internal/trackprotocol"
)

// keyring is the instrumentation key the exporters send with, as intake
// sees it: one key, or ambiguous once two have been seen since start.
type keyring struct {
	mu   sync.Mutex
	key  string
	many bool
}

// observe notes the key of a request the intake spools.
func (k *keyring) observe(key string) {
	if key == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.key == "":
		k.key = key
	case k.key != key:
		k.many = true
	}
}

// current is the one key the exporters send with; false when none has
// been seen yet, or more than one.
func (k *keyring) current() (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.key, k.key != "" && !k.many
}

// rekey rewrites a request that ingestion refused for its key with the
// exporters' current key, and releases it to be sent at once. It reports
// false, and leaves the request claimed, when there is no other key to
// send it with: the exporters' key is the refused one (the connection
// string is still wrong), or they send with several.
func (d *deliverer) rekey(ctx context.Context, b *spool.Batch, req spool.Request) bool {
	if !d.cfg.RekeyRefused || (b.History != nil && b.History.Rekeyed) {
		return false
	}
	key, ok := d.keys.current()
	if !ok {
		return false
	}
	items, err := trackprotocol.DecodeItems(req.Encoding(), req.Body)
	if err != nil || len(items) != b.Items {
		return false
	}
	var rekeyed [][]byte
	for i, item := range items {
		if b.Settled(i) {
			continue
		}
		if trackprotocol.InstrumentationKey(item) == key {
			return false
		}
		r, err := trackprotocol.Rekey(item, key)
		if err != nil {
			return false
		}
		rekeyed = append(rekeyed, r)
	}
	body, err := trackprotocol.EncodeItems(req.Encoding(), rekeyed)
	if err == nil {
		err = d.spool.Replace(b, req, body, len(rekeyed))
	}
	if err != nil {
		d.logger.Error("Could not rewrite spooled telemetry with the connection string's new instrumentation key; it is tried again", zap.Error(err))
		return false
	}
	d.rekeyed.Do(func() {
		d.logger.Warn("Application Insights refused the instrumentation key of spooled telemetry, sent before the connection string changed; the backlog is sent again with the key the exporters use now (spool.rekey_refused)",
			zap.Int("items", len(rekeyed)))
	})
	history(b).Rekeyed = true
	d.ledger.retried(ctx, len(rekeyed))
	d.spool.Release(b, time.Time{})
	return true
}
