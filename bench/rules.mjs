// The rules of src/model/validate.rs that plain schema keywords cannot say exactly, as
// plain functions, so that the zod and the ajv schemas share one definition of each.

/** src/model/validate.rs `is_http_url`: an absolute http(s) URL with a host, no whitespace or control characters. */
export function isHttpUrl(url) {
  const match = /^(https?):\/\//i.exec(url);
  if (!match) return false;
  const rest = url.slice(match[0].length);
  const authority = rest.split(/[/?#]/, 1)[0];
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  return host !== '' && !host.startsWith(':') && !/[\s\p{Cc}]/u.test(url);
}

/** Length in characters (code points), as Rust's `chars().count()`; UTF-16 length is an upper bound. */
export const charLength = (s) => (s.length <= 63 ? s.length : [...s].length);

/** The CreateJob bodies of the benchmarks: the reference's generate example, filled in, and one with five issues. */
export const validCreateJob = {
  action: 'CreateJob',
  secretId: 'AKIDexampleSecretId',
  secretKey: 'exampleSecretKey',
  createJobRequest: {
    customId: 'cover_2024_001',
    callback: 'https://app.example.com/hooks/singing-cloning',
    inputs: [{ url: 'https://cdn.example.com/songs/song.wav' }],
    outputs: [
      {
        contentId: 'covers',
        destination: '/output',
        inputSelectors: [0],
        smartContentDescriptor: {
          outputPrefix: 'cover_',
          singingCloning: { type: 1, modelName: 'default', useSeparate: 2 },
        },
      },
    ],
  },
};

/**
 * Five issues: a non-http URL, a selector of no input, a too long prefix, a model name with a space,
 * an epoch count on a generation.
 */
export const invalidCreateJob = {
  action: 'CreateJob',
  secretId: 'AKIDexampleSecretId',
  secretKey: 'exampleSecretKey',
  createJobRequest: {
    customId: 'cover_2024_001',
    inputs: [{ url: 'ftp://cdn.example.com/songs/song.wav' }],
    outputs: [
      {
        contentId: 'covers',
        inputSelectors: [1],
        smartContentDescriptor: {
          outputPrefix: 'a_prefix_much_too_long_',
          singingCloning: { type: 1, modelName: 'my voice', totalEpoch: 10 },
        },
      },
    ],
  },
};
export const INVALID_ISSUES = 5;
