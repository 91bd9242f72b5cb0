// A child process for the ledger tests: appends `count` entries for `advertiser` to the file ledger
// at `path`, printing each entry's id once it is committed (after fsync, before the lock is let go).
import { FileLedger } from '../src/index.js';

const [path, advertiser, count] = process.argv.slice(2) as [string, string, string];
const ledger = new FileLedger(path);
for (let i = 0; i < Number(count); i++) {
  const id = `${process.pid}-${i}`;
  await ledger.transact(advertiser, 0, () => ({
    append: { t: Date.now(), adv: advertiser, kind: 'reused', release: { id } },
    result: null,
  }));
  process.stdout.write(`${id}\n`);
}
