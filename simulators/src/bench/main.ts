/**
 * `npm run bench` runs every benchmark; `npm run bench -- NAME [--option value ...]` one.
 * Each prints a table for people and, as its last line, one JSON object (docs/BENCHMARKS.md).
 */
import { benchLine, type BenchResult } from './report.ts';
import { runGatewayReplayBench } from './gateway-replay.ts';
import { runIngestBench } from './ingest.ts';
import { runFanoutBench } from './fanout.ts';
import { runDetectBench } from './detect.ts';

const BENCHES: Record<string, (args: string[]) => Promise<BenchResult>> = {
  ingest: runIngestBench,
  'gateway-replay': runGatewayReplayBench,
  fanout: runFanoutBench,
  detect: runDetectBench,
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const selected = name && !name.startsWith('--') ? [name] : Object.keys(BENCHES);
  for (const bench of selected) {
    const run = BENCHES[bench];
    if (!run) {
      console.error(`unknown benchmark "${bench}"; known: ${Object.keys(BENCHES).join(', ')}`);
      process.exit(2);
    }
    const result = await run(name === bench ? rest : []);
    console.log(benchLine(result));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
