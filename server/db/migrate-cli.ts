// `npm run migrate` (also run by `npm start`'s set-up): exits non-zero when any migration fails.
import { loadConfig } from '../config.js';
import { migrate } from './migrate.js';
import { createDb } from './pool.js';

const config = loadConfig();
const db = createDb({ url: config.database.url, poolSize: 1 });
try {
  const applied = await migrate(db, (m) => process.stdout.write(`[migrate] ${m}\n`));
  process.stdout.write(`[migrate] ${applied.length} migration(s) applied\n`);
} catch (err) {
  process.stderr.write(`[migrate] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await db.end();
}
