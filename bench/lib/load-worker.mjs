// Child process of backgroundLoad(): runs autocannon until told to stop, then reports its digest.
import autocannon from 'autocannon';
import { digest } from './load.mjs';

let instance = null;
process.on('message', (m) => {
  if (m.type === 'start') {
    instance = autocannon({ timeout: 10, ...m.opts }, (err, result) => {
      process.send({ type: 'result', result: err ? { error: err.message } : digest(result) }, () => process.exit(0));
    });
    instance.on('error', () => {});
    process.send({ type: 'started' });
  } else if (m.type === 'stop') instance?.stop();
});
process.on('disconnect', () => instance?.stop());
