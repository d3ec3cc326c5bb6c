// Copyright otelcol-runcontext authors
// SPDX-License-Identifier: Apache-2.0

package query

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/otelcol-runcontext/otelcol-runcontext/internal/kql"
)

// The classic Application Insights tables, as Microsoft's schema reference
// (Azure Monitor Logs reference, "Application Insights" tables of
// classic, non-workspace resources) names and types their columns, and
// how each column is read from a stored envelope. README.md has the same
// mapping as one table.

// kind is how a column is stored.
type kind uint8

const (
	kindString   kind = iota // dictionary-encoded text; absent is ""
	kindInt                  // int64; absent is null
	kindReal                 // float64; absent is null
	kindBool                 // absent is null
	kindBag                  // customDimensions: one string column per key
	kindMeasures             // customMeasurements: one real column per key
	kindJSON                 // a dynamic value kept as its JSON text (exceptions' details)
)

// field reads one column's value from an envelope (point is the metric
// data point, for customMetrics' one row per point).
type field struct {
	name string
	typ  kql.Type
	kind kind
	str  func(e *envelope, point int) string
	num  func(e *envelope, point int) (float64, bool)
	int  func(e *envelope, point int) (int64, bool)
}

// tableSchema is one table: the envelope type it takes and its columns.
type tableSchema struct {
	name     string
	itemType string // the itemType column's value
	envelope string // Message, Exception, ...
	fields   []field
}

func str(name string, f func(e *envelope, point int) string) field {
	return field{name: name, typ: kql.TypeString, kind: kindString, str: f}
}

func tag(name, key string) field {
	return str(name, func(e *envelope, _ int) string { return e.Tags[key] })
}

func real(name string, f func(e *envelope, point int) (float64, bool)) field {
	return field{name: name, typ: kql.TypeReal, kind: kindReal, num: f}
}

func integer(name string, typ kql.Type, f func(e *envelope, point int) (int64, bool)) field {
	return field{name: name, typ: typ, kind: kindInt, int: f}
}

var (
	timestampField = field{name: "timestamp", typ: kql.TypeDatetime, kind: kindInt, int: func(e *envelope, _ int) (int64, bool) {
		t, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil {
			return 0, false
		}
		return t.UnixNano() / 100, true
	}}
	severityField = integer("severityLevel", kql.TypeInt, func(e *envelope, _ int) (int64, bool) {
		if e.Data.BaseData.SeverityLevel == nil {
			return 0, false
		}
		return *e.Data.BaseData.SeverityLevel, true
	})
	customDimensions   = field{name: "customDimensions", typ: kql.TypeDynamic, kind: kindBag}
	customMeasurements = field{name: "customMeasurements", typ: kql.TypeDynamic, kind: kindMeasures}
	successField       = field{name: "success", typ: kql.TypeBool, kind: kindBool, int: func(e *envelope, _ int) (int64, bool) {
		if e.Data.BaseData.Success == nil {
			return 0, false
		}
		if *e.Data.BaseData.Success {
			return 1, true
		}
		return 0, true
	}}
	durationField = real("duration", func(e *envelope, _ int) (float64, bool) {
		ticks, ok := kql.ParseTimespan(e.Data.BaseData.Duration)
		return float64(ticks) / 1e4, ok // milliseconds, as the tables keep it
	})
	bucketField = str("performanceBucket", func(e *envelope, p int) string {
		ms, ok := durationField.num(e, p)
		if !ok {
			return ""
		}
		return performanceBucket(ms)
	})
	nameField = str("name", func(e *envelope, _ int) string { return e.Data.BaseData.Name })
	idField   = str("id", func(e *envelope, _ int) string { return e.Data.BaseData.ID })
)

// common are the columns every table ends with: the envelope's context
// tags, the resource and the item's identity.
func common(itemType string) []field {
	return []field{
		str("itemType", func(*envelope, int) string { return itemType }),
		tag("operation_Name", "ai.operation.name"),
		tag("operation_Id", "ai.operation.id"),
		tag("operation_ParentId", "ai.operation.parentId"),
		tag("operation_SyntheticSource", "ai.operation.syntheticSource"),
		tag("session_Id", "ai.session.id"),
		tag("user_Id", "ai.user.id"),
		tag("user_AuthenticatedId", "ai.user.authUserId"),
		tag("user_AccountId", "ai.user.accountId"),
		tag("application_Version", "ai.application.ver"),
		str("client_Type", func(e *envelope, _ int) string {
			if t := e.Tags["ai.device.type"]; t != "" {
				return t
			}
			return "PC" // what the service records for a server-side SDK
		}),
		tag("client_Model", "ai.device.model"),
		tag("client_OS", "ai.device.osVersion"),
		tag("client_IP", "ai.location.ip"),
		tag("client_City", "ai.location.city"),
		tag("client_StateOrProvince", "ai.location.province"),
		tag("client_CountryOrRegion", "ai.location.country"),
		tag("client_Browser", "ai.device.browserVersion"),
		tag("cloud_RoleName", "ai.cloud.role"),
		tag("cloud_RoleInstance", "ai.cloud.roleInstance"),
		str("appId", func(e *envelope, _ int) string { return e.IKey }),
		str("appName", func(*envelope, int) string { return "local" }),
		str("iKey", func(e *envelope, _ int) string { return e.IKey }),
		tag("sdkVersion", "ai.internal.sdkVersion"),
		{name: "itemId", typ: kql.TypeString, kind: kindString}, // computed from the line's place in the file
		integer("itemCount", kql.TypeInt, func(e *envelope, _ int) (int64, bool) {
			if e.SampleRate <= 0 || e.SampleRate >= 100 {
				return 1, true
			}
			return int64(math.Round(100 / e.SampleRate)), true
		}),
	}
}

func table(name, itemType, envelopeType string, fields ...field) tableSchema {
	return tableSchema{name: name, itemType: itemType, envelope: envelopeType, fields: append(fields, common(itemType)...)}
}

// outer and innermost are an ExceptionData item's first and last
// exceptions (the chain the sender wrote, outermost first).
func outer(e *envelope) *exceptionDetails {
	if ex := e.Data.BaseData.Exceptions; len(ex) > 0 {
		return &ex[0]
	}
	return &exceptionDetails{}
}

func innermost(e *envelope) *exceptionDetails {
	if ex := e.Data.BaseData.Exceptions; len(ex) > 0 {
		return &ex[len(ex)-1]
	}
	return &exceptionDetails{}
}

func firstFrame(x *exceptionDetails) stackFrame {
	if len(x.ParsedStack) > 0 {
		return x.ParsedStack[0]
	}
	return stackFrame{}
}

var schemas = []tableSchema{
	table("traces", "trace", "Message",
		timestampField,
		str("message", func(e *envelope, _ int) string { return e.Data.BaseData.Message }),
		severityField, customDimensions, customMeasurements),
	table("exceptions", "exception", "Exception",
		timestampField,
		str("problemId", func(e *envelope, _ int) string {
			if id := e.Data.BaseData.ProblemID; id != "" {
				return id
			}
			// As the service derives it: the type, at the outermost frame.
			x := outer(e)
			if m := firstFrame(x).Method; m != "" {
				return x.TypeName + " at " + m
			}
			return x.TypeName
		}),
		str("handledAt", func(*envelope, int) string { return "" }),
		str("type", func(e *envelope, _ int) string { return outer(e).TypeName }),
		str("message", func(e *envelope, _ int) string { return outer(e).Message }),
		str("assembly", func(e *envelope, _ int) string { return firstFrame(outer(e)).Assembly }),
		str("method", func(e *envelope, _ int) string { return firstFrame(outer(e)).Method }),
		str("outerType", func(e *envelope, _ int) string { return outer(e).TypeName }),
		str("outerMessage", func(e *envelope, _ int) string { return outer(e).Message }),
		str("outerAssembly", func(e *envelope, _ int) string { return firstFrame(outer(e)).Assembly }),
		str("outerMethod", func(e *envelope, _ int) string { return firstFrame(outer(e)).Method }),
		str("innermostType", func(e *envelope, _ int) string { return innermost(e).TypeName }),
		str("innermostMessage", func(e *envelope, _ int) string { return innermost(e).Message }),
		str("innermostAssembly", func(e *envelope, _ int) string { return firstFrame(innermost(e)).Assembly }),
		str("innermostMethod", func(e *envelope, _ int) string { return firstFrame(innermost(e)).Method }),
		severityField,
		field{name: "details", typ: kql.TypeDynamic, kind: kindJSON, str: exceptionDetailsJSON},
		customDimensions, customMeasurements),
	table("requests", "request", "Request",
		timestampField, idField,
		str("source", func(e *envelope, _ int) string { return e.Data.BaseData.Source }),
		nameField,
		str("url", func(e *envelope, _ int) string { return e.Data.BaseData.URL }),
		successField,
		str("resultCode", func(e *envelope, _ int) string { return e.Data.BaseData.ResponseCode }),
		durationField, bucketField, customDimensions, customMeasurements),
	table("dependencies", "dependency", "RemoteDependency",
		timestampField, idField,
		str("target", func(e *envelope, _ int) string { return e.Data.BaseData.Target }),
		str("type", func(e *envelope, _ int) string { return e.Data.BaseData.Type }),
		nameField,
		str("data", func(e *envelope, _ int) string { return e.Data.BaseData.Data }),
		successField,
		str("resultCode", func(e *envelope, _ int) string { return e.Data.BaseData.ResultCode }),
		durationField, bucketField, customDimensions, customMeasurements),
	table("customEvents", "customEvent", "Event",
		timestampField, nameField, customDimensions, customMeasurements),
	table("customMetrics", "customMetric", "Metric",
		timestampField,
		str("name", func(e *envelope, p int) string { return e.Data.BaseData.Metrics[p].Name }),
		real("value", func(e *envelope, p int) (float64, bool) { return e.Data.BaseData.Metrics[p].Value, true }),
		integer("valueCount", kql.TypeInt, func(e *envelope, p int) (int64, bool) {
			if c := e.Data.BaseData.Metrics[p].Count; c != nil && *c > 0 {
				return *c, true
			}
			return 1, true
		}),
		real("valueSum", func(e *envelope, p int) (float64, bool) { return e.Data.BaseData.Metrics[p].Value, true }),
		real("valueMin", func(e *envelope, p int) (float64, bool) { return metricBound(e.Data.BaseData.Metrics[p], true), true }),
		real("valueMax", func(e *envelope, p int) (float64, bool) { return metricBound(e.Data.BaseData.Metrics[p], false), true }),
		real("valueStdDev", func(e *envelope, p int) (float64, bool) {
			if d := e.Data.BaseData.Metrics[p].StdDev; d != nil {
				return *d, true
			}
			return 0, true
		}),
		customDimensions),
}

// metricBound is a data point's min or max: an aggregation's own, and a
// single measurement's value (the exporter writes 0 there).
func metricBound(p dataPoint, min bool) float64 {
	if p.Kind == 1 { // Aggregation
		if min && p.Min != nil {
			return *p.Min
		}
		if !min && p.Max != nil {
			return *p.Max
		}
	}
	return p.Value
}

// performanceBucket is the service's duration bucket for requests and
// dependencies.
func performanceBucket(ms float64) string {
	switch {
	case ms < 250:
		return "<250ms"
	case ms < 500:
		return "250ms-500ms"
	case ms < 1000:
		return "500ms-1sec"
	case ms < 3000:
		return "1sec-3sec"
	case ms < 7000:
		return "3sec-7sec"
	case ms < 15000:
		return "7sec-15sec"
	case ms < 30000:
		return "15sec-30sec"
	case ms < 60000:
		return "30sec-1min"
	case ms < 120000:
		return "1min-2min"
	case ms < 300000:
		return "2min-5min"
	}
	return ">=5min"
}

// itemID is a stable, GUID-shaped id for the item at a byte offset of the
// envelopes file: the service assigns a GUID; this one is the same on
// every read of the same store.
func itemID(table string, offset int64, point int) string {
	h := uint32(2166136261)
	for _, c := range []byte(table) {
		h = (h ^ uint32(c)) * 16777619
	}
	return fmt.Sprintf("%08x-0000-4000-%04x-%012x", h, point&0xffff, offset&0xffffffffffff)
}

// exceptionDetailsJSON is the exceptions table's details column: each
// exception of the item with its parsed stack, as the service shows it.
func exceptionDetailsJSON(e *envelope, _ int) string {
	details := make([]map[string]any, 0, len(e.Data.BaseData.Exceptions))
	for _, x := range e.Data.BaseData.Exceptions {
		d := map[string]any{
			"id": strconv.FormatInt(x.ID, 10), "outerId": strconv.FormatInt(x.OuterID, 10),
			"type": x.TypeName, "message": x.Message, "severityLevel": nil,
		}
		if e.Data.BaseData.SeverityLevel != nil {
			d["severityLevel"] = *e.Data.BaseData.SeverityLevel
		}
		frames := make([]map[string]any, 0, len(x.ParsedStack))
		for _, f := range x.ParsedStack {
			frames = append(frames, map[string]any{"level": f.Level, "method": f.Method, "assembly": f.Assembly, "fileName": f.FileName, "line": f.Line})
		}
		d["parsedStack"] = frames
		if x.Stack != "" {
			d["rawStack"] = x.Stack
		}
		details = append(details, d)
	}
	b, _ := json.Marshal(details)
	return string(b)
}
