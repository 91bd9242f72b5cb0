import { Piscina } from 'piscina';
export async function demo(): Promise<number> {
  const fromSource = import.meta.url.endsWith('.ts');
  const p = new Piscina({
    filename: new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href,
    workerData: { add: 10 },
    execArgv: fromSource ? [...process.execArgv, '--import', 'tsx', '--conditions=source'] : process.execArgv,
  });
  const r = await p.run(5);
  await p.destroy();
  return r;
}
