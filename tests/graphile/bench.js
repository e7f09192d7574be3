// graphile-worker draining no-op jobs: the peer `matters bench scheduler --graphile` runs beside
// matters' scheduler, on the same Postgres, in the same run. It makes a schema of its own,
// queues the jobs in bulk (not timed), then times a worker running them (each task does
// nothing) until none is left, and prints one JSON line: {"jobs", "seconds", "rate"}.
//
//   node tests/graphile/bench.js <postgres url> <jobs> [concurrency]
//
// Install it first: npm ci --prefix tests/graphile
"use strict";

const { Logger, run, runMigrations } = require("graphile-worker");
const { Pool } = require("pg");

async function main() {
  const [url, jobsArg, concurrencyArg] = process.argv.slice(2);
  const jobs = Number(jobsArg);
  const concurrency = Number(concurrencyArg || 10);
  if (!url || !(jobs > 0)) {
    throw new Error("usage: bench.js <postgres url> <jobs> [concurrency]");
  }
  const schema = `matters_bench_graphile_${process.pid}`;
  const pool = new Pool({ connectionString: url, max: concurrency + 4 });
  const said = (e) => console.error(`graphile-worker bench: ${e.message}`);
  pool.on("error", said);
  pool.on("connect", (client) => client.on("error", said));
  const options = {
    pgPool: pool,
    noHandleSignals: true,
    // Silent: a line per job would time the terminal, not the queue.
    logger: new Logger(() => () => {}),
    preset: {
      worker: {
        schema,
        concurrentJobs: concurrency,
        pollInterval: 1000,
        // Batching as graphile-worker's performance guide sets it for many short jobs: a local
        // queue fetched (and locked) in bulk, completions written in batches.
        localQueue: { size: 500 },
        completeJobBatchDelay: 0,
      },
    },
  };
  try {
    await runMigrations(options);
    // Queue in bulk, in chunks, through graphile-worker's own add_jobs.
    const chunk = 10000;
    for (let done = 0; done < jobs; done += chunk) {
      const n = Math.min(chunk, jobs - done);
      await pool.query(
        `SELECT count(*) FROM ${schema}.add_jobs(ARRAY(SELECT ROW('noop', '{}'::json, NULL, NULL, NULL, NULL, NULL, NULL)::${schema}.job_spec FROM generate_series(1, $1)))`,
        [n],
      );
    }
    let succeeded = 0;
    let failed = 0;
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    const started = process.hrtime.bigint();
    const runner = await run({
      ...options,
      taskList: { noop: async () => {} },
    });
    runner.events.on("job:success", () => {
      succeeded += 1;
      if (succeeded + failed === jobs) finish();
    });
    runner.events.on("job:error", () => {
      failed += 1;
      if (succeeded + failed === jobs) finish();
    });
    await finished;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await runner.stop();
    if (failed > 0) throw new Error(`${failed} no-op jobs failed`);
    console.log(JSON.stringify({ jobs, seconds, rate: jobs / seconds, concurrency }));
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}

main().catch((e) => {
  console.error(`graphile-worker bench failed: ${e.message}`);
  process.exit(1);
});
