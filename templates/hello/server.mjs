// A tiny web app to deploy: serves public/ and says which release it runs.
// Start it from a release: `node current/server.mjs` (PORT defaults to 8080).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const port = Number(process.env.PORT ?? 8080);
const info = JSON.parse(await readFile(join(here, 'build-info.json'), 'utf8').catch(() => '{}'));

const server = createServer(async (request, response) => {
  if (request.url === '/release') {
    response.end(`${info.release ?? 'unknown'}\n`);
    return;
  }
  const path = normalize(request.url === '/' ? '/index.html' : (request.url ?? '/')).replace(/^(\.\.[/\\])+/, '');
  try {
    response.end(await readFile(join(here, 'public', path)));
  } catch {
    response.statusCode = 404;
    response.end('not found\n');
  }
});
// PORT=0 lets the system pick a free port: print the one we got.
server.listen(port, () => console.log(`hello ${info.release ?? ''} listening on :${server.address().port}`));
