// The CreateJob rules of src/model/validate.rs as a JSON Schema compiled by ajv
// (allErrors: every issue, as validate() reports every issue), and the GetJob answer's shape.
//
// Plain keywords where JSON Schema has one (types, required, minLength/maxLength, which ajv
// counts in code points as Rust does, pattern, minimum/maximum, enum), `if`/`then` for the
// rules that depend on the type (totalEpoch only for type 2, contentId required for type 1),
// ajv's `format` hook for an absolute http(s) URL (rules.mjs isHttpUrl), and a custom
// keyword `exactlyOneOf` for the one-of input (null counts as absent, which `oneOf` +
// `required` cannot say). A selector naming an input is across two arrays, which JSON
// Schema cannot say: `validateCreateJobBody` checks it after ajv, in plain JavaScript.
import Ajv from 'ajv';
import { isHttpUrl } from './rules.mjs';

const str = { type: ['string', 'null'] };
const nonEmpty = { type: 'string', minLength: 1 };
const int = { type: 'integer' };
const intOrNull = { type: ['integer', 'null'] };

export const createJobBodySchema = {
  type: 'object',
  required: ['action', 'createJobRequest'],
  properties: {
    action: { const: 'CreateJob' },
    secretId: { type: ['string', 'null'], minLength: 1 },
    secretKey: { type: ['string', 'null'], minLength: 1 },
    createJobRequest: {
      type: 'object',
      required: ['inputs', 'outputs'],
      properties: {
        callback: { type: ['string', 'null'], format: 'http-url' },
        customId: { type: ['string', 'null'], maxLength: 63 },
        timeout: { type: ['integer', 'null'], minimum: 1, maximum: 4294967295 },
        inputs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            exactlyOneOf: ['sourceData', 'url', 'source'],
            properties: {
              sourceData: { type: ['string', 'null'], maxLength: 512 },
              url: { type: ['string', 'null'], format: 'http-url' },
              source: {
                type: ['object', 'null'],
                required: ['contentId', 'path'],
                properties: { contentId: nonEmpty, path: nonEmpty },
              },
            },
          },
        },
        outputs: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['inputSelectors', 'smartContentDescriptor'],
            properties: {
              contentId: str,
              destination: str,
              inputSelectors: { type: 'array', minItems: 1, items: int },
              smartContentDescriptor: {
                type: 'object',
                required: ['singingCloning'],
                properties: {
                  outputPrefix: { type: ['string', 'null'], maxLength: 19 },
                  singingCloning: {
                    type: 'object',
                    required: ['type', 'modelName'],
                    properties: {
                      type: { type: 'integer', enum: [1, 2] },
                      modelName: { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9_]+$' },
                      totalEpoch: intOrNull,
                      useSeparate: { type: ['integer', 'null'], enum: [1, 2, null] },
                    },
                    if: { required: ['type'], properties: { type: { const: 1 } } },
                    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's own keyword.
                    then: { properties: { totalEpoch: { type: 'null' } } },
                    else: { properties: { totalEpoch: { type: ['integer', 'null'], minimum: 1, maximum: 50 } } },
                  },
                },
              },
            },
            if: {
              required: ['smartContentDescriptor'],
              properties: {
                smartContentDescriptor: {
                  type: 'object',
                  required: ['singingCloning'],
                  properties: {
                    singingCloning: { type: 'object', required: ['type'], properties: { type: { const: 1 } } },
                  },
                },
              },
            },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema's own keyword.
            then: { required: ['contentId'], properties: { contentId: nonEmpty } },
          },
        },
      },
    },
  },
};

const job = {
  type: 'object',
  required: ['id', 'state'],
  properties: {
    id: { type: 'string' },
    state: int,
    customId: str,
    callback: str,
    timing: { type: ['object', 'null'], properties: { createdAt: str, startedAt: str, completedAt: str } },
    inputs: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        properties: {
          sourceData: str,
          url: str,
          source: {
            type: ['object', 'null'],
            required: ['contentId', 'path'],
            properties: { contentId: { type: 'string' }, path: { type: 'string' } },
          },
        },
      },
    },
    outputs: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['inputSelectors', 'smartContentDescriptor'],
        properties: {
          contentId: str,
          destination: str,
          inputSelectors: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 4294967295 } },
          smartContentDescriptor: {
            type: 'object',
            required: ['singingCloning'],
            properties: {
              outputPrefix: str,
              singingCloning: {
                type: 'object',
                required: ['type', 'modelName'],
                properties: {
                  type: { type: 'integer', minimum: 1, maximum: 2 },
                  modelName: { type: 'string' },
                  totalEpoch: { type: ['integer', 'null'], minimum: 0, maximum: 4294967295 },
                  useSeparate: { type: ['integer', 'null'], minimum: 1, maximum: 2 },
                },
              },
            },
          },
          smartContentResult: {
            type: ['object', 'null'],
            properties: { singingCloning: { type: ['object', 'null'], properties: { songName: str, modelName: str } } },
          },
        },
      },
    },
  },
};

export const getJobResponseSchema = {
  type: 'object',
  required: ['getJobResponse'],
  properties: { requestId: str, getJobResponse: { type: 'object', required: ['job'], properties: { job } } },
};

export function makeAjv() {
  const ajv = new Ajv({ allErrors: true });
  ajv.addFormat('http-url', { type: 'string', validate: isHttpUrl });
  ajv.addKeyword({
    keyword: 'exactlyOneOf',
    type: 'object',
    schemaType: 'array',
    errors: false,
    validate: (keys, data) => keys.reduce((n, key) => n + (data[key] != null), 0) === 1,
  });
  return ajv;
}

const ajv = makeAjv();
const checkCreateJobBody = ajv.compile(createJobBodySchema);
export const checkGetJobResponse = ajv.compile(getJobResponseSchema);

/** ajv's issues plus the post-check of selectors against inputs; `[]` when valid. */
export function validateCreateJobBody(body) {
  // `if` adds an error of its own beside the failing `then` keyword's: that is no issue of the body.
  const errors = checkCreateJobBody(body) ? [] : checkCreateJobBody.errors.filter((e) => e.keyword !== 'if');
  const request = body?.createJobRequest;
  const inputs = request?.inputs;
  if (Array.isArray(inputs) && Array.isArray(request.outputs)) {
    request.outputs.forEach((output, i) => {
      const selectors = output?.inputSelectors;
      if (!Array.isArray(selectors)) return;
      selectors.forEach((n, j) => {
        if (Number.isInteger(n) && (n < 0 || n >= inputs.length)) {
          errors.push({
            instancePath: `/createJobRequest/outputs/${i}/inputSelectors/${j}`,
            keyword: 'reference',
            message: 'must be the index of an input',
          });
        }
      });
    });
  }
  return errors;
}
