// The hand-rolled client with zod: what a page bundles and a process starts with.
import { makeHandRolledClient } from './handrolled.mjs';
import { createJobBody, getJobResponseBody } from '../schemas-zod.mjs';

export function make() {
  const check = (body) => {
    const result = createJobBody.safeParse(body);
    return result.success ? [] : result.error.issues;
  };
  return makeHandRolledClient({
    endpoint: '/api/singing-cloning',
    check,
    read: (json) => getJobResponseBody.safeParse(json).success,
  });
}
