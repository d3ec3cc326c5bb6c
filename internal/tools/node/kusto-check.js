// Checks queries with Microsoft's own KQL parser and binder,
// Kusto.Language (npm @kusto/language-service-next), against the local
// store's tables. Reads {"tables": {name: [{name, type}]}, "queries": [...]}
// on standard input; writes, for each query, the errors Kusto.Language
// reports: [[{code, message, start}], ...].
require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');

const K = Kusto.Language;
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const { tables, queries } = JSON.parse(input);
  const symbols = Object.entries(tables).map(([name, columns]) =>
    new K.Symbols.TableSymbol.$ctor7(name, '(' + columns.map((c) => `['${c.name}']:${c.type}`).join(', ') + ')', null));
  const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.$ctor1('local', symbols, false));
  const out = queries.map((q) => {
    const diagnostics = K.KustoCode.ParseAndAnalyze(q, globals).GetDiagnostics();
    const errors = [];
    for (let i = 0; i < diagnostics.Count; i++) {
      const d = diagnostics.getItem(i);
      if (d.Severity === 'Error') {
        errors.push({ code: d.Code, message: d.Message, start: d.Start });
      }
    }
    return errors;
  });
  process.stdout.write(JSON.stringify(out));
});
