// A smoke test for the `release` pipeline: the environment's URL comes in $URL; the exit code decides.
const url = process.env.URL;
fetch(`${url}/health`)
  .then(async (res) => {
    console.log(`GET ${url}/health -> ${res.status}`);
    const page = await (await fetch(url)).text();
    console.log(page);
    // The page greets with $GREETING (`hello` unless set): any greeting will do.
    process.exit(res.ok && /<h1>[^<]* from [^<]*<\/h1>/.test(page) ? 0 : 1);
  })
  .catch((err) => {
    console.error(`smoke test failed: ${err.message}`);
    process.exit(1);
  });
