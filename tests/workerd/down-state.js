// A state object that is down: every request to it fails, as when the object cannot be reached.
export class ProxyState {
  fetch() {
    throw new Error('the state object is down');
  }
}

export default {
  fetch: () => new Response('not found', { status: 404 }),
};
