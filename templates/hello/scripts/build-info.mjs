// Run on each host by `release.build`, inside the new release: records which
// release this is, for the server's /release answer.
import { writeFileSync } from 'node:fs';

writeFileSync('build-info.json', `${JSON.stringify({ release: process.env.DEPLOYR_RELEASE, environment: process.env.DEPLOYR_ENVIRONMENT })}\n`);
