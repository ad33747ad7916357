// The hand-rolled client with ajv: what a page bundles and a process starts with.
import { makeHandRolledClient } from './handrolled.mjs';
import { validateCreateJobBody, checkGetJobResponse } from '../schemas-ajv.mjs';

export function make() {
  return makeHandRolledClient({
    endpoint: '/api/singing-cloning',
    check: validateCreateJobBody,
    read: checkGetJobResponse,
  });
}
