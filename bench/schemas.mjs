// The benchmarks' peer validators: the CreateJob rules of src/model/validate.rs and the
// GetJob answer's shape, as a zod schema (schemas-zod.mjs) and as an ajv-compiled JSON
// Schema (schemas-ajv.mjs). See each file for how the cross-field rules are written.
export { createJobBody as zodCreateJobBody, getJobResponseBody as zodGetJobResponse } from './schemas-zod.mjs';
export {
  validateCreateJobBody as ajvValidateCreateJobBody,
  checkGetJobResponse as ajvCheckGetJobResponse,
} from './schemas-ajv.mjs';
export { validCreateJob, invalidCreateJob, INVALID_ISSUES, isHttpUrl } from './rules.mjs';
