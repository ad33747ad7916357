// The page runs the check itself and, at the same time, in a module worker at Vite's default
// worker settings, whose first message is posted at once, while the worker's WebAssembly may
// still be loading (it must not be lost).
import { check } from '../../check.js';
import { show } from '../page.js';

function checkInWorker(api) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const answer = new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
  });
  worker.postMessage(api);
  return answer;
}

show(async (api) => {
  const [page, worker] = await Promise.all([check(api), checkInWorker(api)]);
  return { ...page, worker };
});
