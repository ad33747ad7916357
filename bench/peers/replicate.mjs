// replicate as a page uses it: import it and make a client.
import Replicate from 'replicate';

export function make() {
  return new Replicate({ auth: 'r8_benchmark_token_not_used' });
}
