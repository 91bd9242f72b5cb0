import { workerData } from 'node:worker_threads';

const x: number = 1;
export default function run(n: number): number {
  return n + x + (workerData?.add ?? 0);
}
