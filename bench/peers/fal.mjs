// @fal-ai/client as a page uses it: import it and make a client.
import { createFalClient } from '@fal-ai/client';

export function make() {
  return createFalClient({ proxyUrl: '/api/fal/proxy' });
}
