// DuckDB side of bench/data_stats: SUMMARIZE over a CSV file, in this process.
//
//   node bench/duckdb/summarize.mjs FILE
//
// Runs `SUMMARIZE SELECT * FROM read_csv('FILE')` on an in-memory database
// with DuckDB's defaults (all cores, memory limit 80% of RAM) and prints one
// JSON line: {"duckdb": VERSION, "rows": N, "columns": [...], "seconds": S}
// where rows is SUMMARIZE's `count` of the first column (the row count) and
// seconds covers the query alone (the caller times the whole process too).
import { DuckDBInstance, version } from '@duckdb/node-api';

const file = process.argv[2];
if (!file) {
  console.error('usage: node summarize.mjs FILE');
  process.exit(2);
}
const quoted = "'" + file.replaceAll("'", "''") + "'";
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const t0 = process.hrtime.bigint();
const reader = await connection.runAndReadAll(
  `SUMMARIZE SELECT * FROM read_csv(${quoted})`);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rows = reader.getRowObjectsJson();
connection.closeSync();
instance.closeSync();
if (rows.length === 0) {
  console.error('summarize.mjs: SUMMARIZE returned no rows');
  process.exit(1);
}
const columns = rows.map((r) => ({
  name: r.column_name, type: r.column_type, min: r.min, max: r.max,
  approx_unique: Number(r.approx_unique), avg: r.avg, std: r.std,
  q25: r.q25, q50: r.q50, q75: r.q75, count: Number(r.count),
  null_percentage: Number(r.null_percentage),
}));
console.log(JSON.stringify({ duckdb: version(), rows: columns[0].count, columns, seconds }));
