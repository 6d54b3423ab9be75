// The shop's background worker: no port, it logs a line every few seconds (rewind logs -a shop).
const VERSION = 'v1';

const every = Number(process.env.WORKER_INTERVAL_MS || 5000);
let n = 0;
console.log(`worker ${VERSION} started`);
const timer = setInterval(() => console.log(`worker ${VERSION} tick ${++n}`), every);

process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log(`worker ${VERSION} stopping`);
  process.exit(0);
});
