// A smoke test for the `release` pipeline: the environment's URL comes in $URL; the exit code decides.
const url = process.env.URL;
fetch(`${url}/health`)
  .then(async (res) => {
    console.log(`GET ${url}/health -> ${res.status}`);
    const page = await (await fetch(url)).text();
    console.log(page);
    process.exit(res.ok && page.includes('hello from') ? 0 : 1);
  })
  .catch((err) => {
    console.error(`smoke test failed: ${err.message}`);
    process.exit(1);
  });
