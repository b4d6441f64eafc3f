// `node --import ./record-loads.mjs`: registers hooks.mjs before the program's first import.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
