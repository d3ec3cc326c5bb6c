module github.com/otelcol-runcontext/otelcol-runcontext/internal/kql

go 1.26.0
