// The lab's test images, built with no network: FROM scratch + Debian's static busybox serving
// /www with `busybox httpd`. 1.11 and 1.12 are the Rainbond scenario (nginx-like 1.11 → 1.12);
// `broken` serves its index but has no /health (a health check of GET /health answers 404).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { engine, LAB } from './lab-common.mjs';

export const TEST_REPO = 'rewind-test/web';
export const TEST_IMAGES = [
  { tag: '1.11', healthy: true },
  { tag: '1.12', healthy: true },
  { tag: 'broken', healthy: false },
];

function dockerfile(tag) {
  return [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'COPY www /www',
    `LABEL rewind.test="1" rewind.test.version="${tag}"`,
    'EXPOSE 80',
    // httpd as pid 1 ignores SIGTERM (every stop would wait out the 10 s grace): a shell with a trap is pid 1.
    `ENTRYPOINT ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM; echo rewind-test web ${tag} serving /www on port 80; /bin/busybox httpd -f -p 80 -h /www & wait"]`,
    '',
  ].join('\n');
}

function writeContext(image) {
  const dir = `${LAB.imagesDir}/${image.tag}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/www`, { recursive: true, mode: 0o700 });
  writeFileSync(`${dir}/Dockerfile`, dockerfile(image.tag));
  copyFileSync(LAB.busybox, `${dir}/busybox`);
  writeFileSync(`${dir}/www/index.html`, `rewind-test web ${image.tag}\n`);
  if (image.healthy) writeFileSync(`${dir}/www/health`, 'ok\n');
  return dir;
}

/** Docker's build and push answers are JSON lines; an `error` line is a failure with a 200 status. */
export function streamError(text) {
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line);
      if (j.error) return j.error;
    } catch {}
  }
  return null;
}

async function build(image) {
  const dir = writeContext(image);
  const tar = spawn('tar', ['-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const query = new URLSearchParams({ t: `${TEST_REPO}:${image.tag}`, rm: '1', forcerm: '1' });
  const res = await engine('POST', `/build?${query}`, tar.stdout, { 'content-type': 'application/x-tar' });
  const err = res.status !== 200 ? res.text.trim() : streamError(res.text);
  if (err) throw new Error(`building ${TEST_REPO}:${image.tag} failed: ${err}`);
}

/** Builds the images that are missing; records every image's id in lab.images. */
export async function buildTestImages(lab) {
  const built = [];
  lab.images = {};
  const one = async (image) => {
    const ref = `${TEST_REPO}:${image.tag}`;
    let inspect = await engine('GET', `/images/${ref}/json`);
    if (inspect.status === 404) {
      await build(image);
      built.push(image.tag);
      inspect = await engine('GET', `/images/${ref}/json`);
    }
    if (inspect.status !== 200) throw new Error(`GET /images/${ref}/json answered ${inspect.status}: ${inspect.text.trim()}`);
    lab.images[ref] = inspect.json.Id;
  };
  await Promise.all(TEST_IMAGES.map(one));
  rmSync(LAB.imagesDir, { recursive: true, force: true });
  const names = TEST_IMAGES.map((i) => i.tag).join(', ');
  return built.length ? `built ${built.join(', ')} (${TEST_REPO}: ${names})` : `present (${TEST_REPO}: ${names})`;
}
