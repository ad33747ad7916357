// The CreateJob rules of src/model/validate.rs as a zod schema, and the GetJob answer's
// shape as src/model/validate.rs `check_response` reads it.
//
// Plain keywords where zod has one (types, required, min/max, enums, regex); the rest as
// zod refinements: exactly one input source (refine on the input), an absolute http(s)
// URL (refine with rules.mjs isHttpUrl), lengths in characters (refine), and the
// cross-field rules (superRefine): every inputSelector names an input, totalEpoch only
// for training (type 2), contentId required for generation (type 1).
// `null` counts as absent for optional fields (`.nullish()`), as in validate.rs.
import * as z from 'zod';
import { isHttpUrl, charLength } from './rules.mjs';

const nonEmpty = z.string().min(1, 'must not be empty');
const maxChars = (n) => z.string().refine((s) => charLength(s) <= n, `must be at most ${n} characters`);
const httpUrl = z.string().refine(isHttpUrl, 'must be an absolute http or https URL');
const int = z.number().int();

const input = z
  .object({
    sourceData: maxChars(512).nullish(),
    url: httpUrl.nullish(),
    source: z.object({ contentId: nonEmpty, path: nonEmpty }).nullish(),
  })
  .refine((i) => (i.sourceData != null) + (i.url != null) + (i.source != null) === 1, {
    message: 'must have exactly one of sourceData, url and source',
  });

const output = z
  .object({
    contentId: z.string().nullish(),
    destination: z.string().nullish(),
    inputSelectors: z.array(int).min(1, 'must not be empty'),
    smartContentDescriptor: z.object({
      outputPrefix: maxChars(19).nullish(),
      singingCloning: z.object({
        type: int.refine((n) => n === 1 || n === 2, 'must be 1 (generate audio) or 2 (train a model)'),
        modelName: nonEmpty
          .refine((s) => charLength(s) <= 63, 'must be shorter than 64 characters')
          .regex(/^[A-Za-z0-9_]+$/, 'must contain only ASCII letters, digits and underscores'),
        totalEpoch: int.nullish(),
        useSeparate: int.refine((n) => n === 1 || n === 2, 'must be 1 (off) or 2 (on)').nullish(),
      }),
    }),
  })
  .superRefine((o, ctx) => {
    const cloning = o.smartContentDescriptor.singingCloning;
    if (cloning.totalEpoch != null) {
      if (cloning.type === 1)
        ctx.addIssue({
          code: 'custom',
          path: ['smartContentDescriptor', 'singingCloning', 'totalEpoch'],
          message: 'applies only to training (type 2)',
        });
      else if (cloning.totalEpoch < 1 || cloning.totalEpoch > 50)
        ctx.addIssue({
          code: 'custom',
          path: ['smartContentDescriptor', 'singingCloning', 'totalEpoch'],
          message: 'must be from 1 to 50',
        });
    }
    if (cloning.type === 1 && !o.contentId)
      ctx.addIssue({ code: 'custom', path: ['contentId'], message: 'is required to generate audio (type 1)' });
  });

export const createJobRequest = z
  .object({
    callback: httpUrl.nullish(),
    customId: maxChars(63).nullish(),
    timeout: int.min(1).max(4294967295).nullish(),
    inputs: z.array(input).min(1, 'must not be empty'),
    outputs: z.array(output).min(1, 'must not be empty'),
  })
  .superRefine((r, ctx) => {
    r.outputs.forEach((o, i) => {
      o.inputSelectors.forEach((n, j) => {
        if (n < 0 || n >= r.inputs.length)
          ctx.addIssue({
            code: 'custom',
            path: ['outputs', i, 'inputSelectors', j],
            message: 'must be the index of an input',
          });
      });
    });
  });

export const createJobBody = z.object({
  action: z.literal('CreateJob'),
  secretId: nonEmpty.nullish(),
  secretKey: nonEmpty.nullish(),
  createJobRequest,
});

// The GetJob answer: the fields the typed model reads, with their types; unknown fields kept (looseObject),
// as parseResponse keeps them.
const text = z.string().nullish();
const job = z.looseObject({
  id: z.string(),
  state: int,
  customId: text,
  callback: text,
  timing: z.looseObject({ createdAt: text, startedAt: text, completedAt: text }).nullish(),
  inputs: z
    .array(
      z.looseObject({
        sourceData: text,
        url: text,
        source: z.looseObject({ contentId: z.string(), path: z.string() }).nullish(),
      }),
    )
    .nullish(),
  outputs: z
    .array(
      z.looseObject({
        contentId: text,
        destination: text,
        inputSelectors: z.array(int.min(0).max(4294967295)),
        smartContentDescriptor: z.looseObject({
          outputPrefix: text,
          singingCloning: z.looseObject({
            type: int.min(1).max(2),
            modelName: z.string(),
            totalEpoch: int.min(0).max(4294967295).nullish(),
            useSeparate: int.min(1).max(2).nullish(),
          }),
        }),
        smartContentResult: z
          .looseObject({ singingCloning: z.looseObject({ songName: text, modelName: text }).nullish() })
          .nullish(),
      }),
    )
    .nullish(),
});

export const getJobResponseBody = z.looseObject({
  requestId: text,
  getJobResponse: z.looseObject({ job }),
});
