// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

// Package storegen writes a store of envelopes, as the contrib Azure
// Monitor exporter sends them for pipeline steps and the local ingestion
// endpoint stores them: the conformance corpus's fixture and the query
// benchmark's million traces. The same options give the same bytes.
package storegen // import "github.com/otelcol-runcontext/otelcol-runcontext/extension/appinsightsingestionextension/query/storegen"

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Options shape a store.
type Options struct {
	// Now is the end of the store's time range; items spread over the
	// Days before it.
	Now  time.Time
	Days int
	// Runs are the pipeline runs; each has the steps prep, train, score.
	Runs int
	// Traces is how many log records (traces) to write; every run's
	// steps also write their step item (requests), a dependency, metrics,
	// an event, and the failed ones an exception.
	Traces int
	Seed   uint64
}

const ikey = "00000000-0000-0000-0000-000000000000"

var (
	steps  = []string{"prep", "train", "score"}
	levels = []struct {
		name     string
		severity int
		weight   int
	}{{"DEBUG", 0, 5}, {"INFO", 1, 70}, {"WARNING", 2, 17}, {"ERROR", 3, 7}, {"CRITICAL", 4, 1}}
	messages = []string{
		"loading training data", "validation loss increased", "epoch %d finished", "wrote checkpoint to /mnt/outputs/ckpt-%d",
		"could not write checkpoint", "training diverged: loss is NaN", "scored %d rows", "retrying download of shard %d",
		"GPU memory at %d%%", "Error: connection reset by peer", "errors in 3 rows, kept the rest", "started step",
	}
)

type run struct {
	id, experiment, runType, url string
	start                        time.Time
	failed                       bool
}

type writer struct {
	w   *bufio.Writer
	err error
}

func (w *writer) envelope(name string, t time.Time, tags map[string]string, baseType string, baseData map[string]any) {
	if w.err != nil {
		return
	}
	b, err := json.Marshal(map[string]any{
		"ver": 1, "name": "Microsoft.ApplicationInsights." + name, "time": t.UTC().Format(time.RFC3339Nano),
		"sampleRate": 100, "seq": "", "iKey": ikey, "tags": tags,
		"data": map[string]any{"baseType": baseType, "baseData": baseData},
	})
	if err == nil {
		_, err = w.w.Write(append(b, '\n'))
	}
	w.err = err
}

// Write writes the store's envelopes, in time order within each run.
func Write(out io.Writer, o Options) error {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	w := &writer{w: bufio.NewWriterSize(out, 1<<20)}
	span := time.Duration(o.Days) * 24 * time.Hour
	runs := make([]run, o.Runs)
	for i := range runs {
		experiments := []string{"train-pipeline", "score-pipeline"}
		types := []string{"training", "scoring"}
		k := i % 2
		id := fmt.Sprintf("%08x-3720-11ea-b247-c49deda8%04x", rng.Uint32(), i)
		runs[i] = run{
			id: id, experiment: experiments[k], runType: types[k],
			url:    "https://ml.azure.com/runs/" + id + "?wsid=/subscriptions/sub/resourcegroups/rg/workspaces/ws",
			start:  o.Now.Add(-span + time.Duration(float64(span)*float64(i)/float64(max(o.Runs, 1)))).Truncate(time.Second),
			failed: i%4 == 3,
		}
	}
	total := 0
	for _, l := range levels {
		total += l.weight
	}
	perStep := max(o.Traces/max(o.Runs*len(steps), 1), 1)
	written := 0
	for ri, r := range runs {
		for si, step := range steps {
			stepID := fmt.Sprintf("%s-%s", r.id[:8], step)
			operation := fmt.Sprintf("%032x", uint64(ri*len(steps)+si+1)*0x9e3779b97f4a7c15)
			spanID := fmt.Sprintf("%016x", uint64(ri*31+si+7)*0x2545f4914f6cdd1d)
			props := map[string]string{
				"parent_run_id": r.id, "step_id": stepID, "step_name": step, "experiment_name": r.experiment,
				"run_url": r.url, "run_type": r.runType,
				"cicd.pipeline.name": r.experiment, "cicd.pipeline.run.id": r.id, "cicd.pipeline.task.name": step,
				"cicd.pipeline.task.run.id": stepID, "service.name": step, "telemetry.sdk.language": "python",
			}
			tags := map[string]string{"ai.cloud.role": step, "ai.cloud.roleInstance": "compute-" + fmt.Sprint(ri%3),
				"ai.internal.sdkVersion": "otelc-v0.161.0-lin-amd64", "ai.operation.id": operation, "ai.operation.parentId": spanID}
			at := r.start.Add(time.Duration(si) * 20 * time.Minute)
			n := perStep
			if ri == len(runs)-1 && si == len(steps)-1 {
				n = o.Traces - written // the last step takes the remainder
			}
			failedStep := r.failed && step == "train"
			for j := 0; j < n; j++ {
				pick := rng.IntN(total)
				level := levels[0]
				for _, l := range levels {
					if pick < l.weight {
						level = l
						break
					}
					pick -= l.weight
				}
				msg := messages[rng.IntN(len(messages))]
				if level.name == "ERROR" && rng.IntN(2) == 0 {
					msg = messages[4+rng.IntN(2)]
				}
				text := msg
				if containsVerb(msg) {
					text = fmt.Sprintf(msg, rng.IntN(100))
				}
				p := copyProps(props)
				p["Level"] = level.name
				p["code.file.path"] = "/mnt/code/" + step + ".py"
				p["code.line.number"] = fmt.Sprint(10 + rng.IntN(200))
				t := at.Add(time.Duration(j) * time.Second * time.Duration(1+rng.IntN(3)))
				w.envelope("Message", t, tags, "MessageData", map[string]any{"ver": 2, "message": text, "severityLevel": level.severity, "properties": p})
			}
			written += n
			end := at.Add(time.Duration(n)*2*time.Second + time.Minute)
			if failedStep {
				p := copyProps(props)
				p["Level"] = "ERROR"
				p["exception.type"] = "ValueError"
				w.envelope("Exception", end.Add(-time.Second), tags, "ExceptionData", map[string]any{
					"ver": 2, "severityLevel": 3, "problemId": "ERROR",
					"exceptions": []map[string]any{{"id": 0, "outerId": 0, "typeName": "ValueError", "message": "training diverged: loss is NaN",
						"hasFullStack": true, "stack": "Traceback (most recent call last):\n  File \"/mnt/code/train.py\", line 41, in <module>\n    raise ValueError(\"training diverged: loss is NaN\")\nValueError: training diverged: loss is NaN\n"}},
					"properties": p,
				})
			}
			// The step item: a SERVER span, the CICD task run.
			result, success, code := "success", true, "0"
			if failedStep {
				result, success, code = "failure", false, "1"
			}
			p := copyProps(props)
			p["cicd.pipeline.task.run.result"] = result
			p["process.exit.code"] = code
			w.envelope("Request", at, map[string]string{"ai.cloud.role": step, "ai.internal.sdkVersion": tags["ai.internal.sdkVersion"],
				"ai.operation.id": operation, "ai.operation.name": step}, "RequestData", map[string]any{
				"ver": 2, "id": spanID, "name": step, "duration": timespan(end.Sub(at)), "responseCode": code, "success": success,
				"url": "", "properties": p})
			w.envelope("RemoteDependency", at.Add(2*time.Second), tags, "RemoteDependencyData", map[string]any{
				"ver": 2, "name": "GET /datasets/" + step, "id": fmt.Sprintf("%016x", rng.Uint64()), "resultCode": "200",
				"duration": timespan(time.Duration(50+rng.IntN(900)) * time.Millisecond), "success": true,
				"data": "https://storage.example/datasets/" + step, "target": "storage.example", "type": "HTTP", "properties": props})
			w.envelope("Metric", end, tags, "MetricData", map[string]any{"ver": 2, "metrics": []map[string]any{{
				"name": "rows_processed", "kind": 0, "value": float64(1000 + rng.IntN(9000)), "count": 1, "min": 0, "max": 0, "stdDev": 0}},
				"properties": props})
			w.envelope("Event", end, tags, "EventData", map[string]any{"ver": 2, "name": "StepFinished", "properties": props,
				"measurements": map[string]float64{"rows": float64(1000 + rng.IntN(9000))}})
		}
	}
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 'd' {
			return true
		}
	}
	return false
}

func copyProps(p map[string]string) map[string]string {
	out := make(map[string]string, len(p)+4)
	for k, v := range p {
		out[k] = v
	}
	return out
}

// timespan writes a duration as the exporter does: d.hh:mm:ss.ffffff.
func timespan(d time.Duration) string {
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	s := d / time.Second
	d -= s * time.Second
	return fmt.Sprintf("%02d.%02d:%02d:%02d.%06d", days, h, m, s, d/time.Microsecond)
}
