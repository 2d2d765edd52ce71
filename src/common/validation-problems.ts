import { ValidationError } from '@nestjs/common';

/** The admin API's rules for request bodies: unknown fields are refused, not dropped. */
export const BODY_VALIDATION = { whitelist: true, forbidNonWhitelisted: true } as const;

/** One bad field: its dotted path and what is wrong with it. */
export interface FieldProblem {
  field: string;
  problems: string[];
}

/** class-validator's error tree as one entry per failing field, nested fields by dotted path. */
export function validationProblems(errors: ValidationError[], prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const walk = (list: ValidationError[], parent: string) => {
    for (const error of list) {
      const field = parent ? `${parent}.${error.property}` : error.property;
      if (error.constraints) problems.push({ field, problems: Object.values(error.constraints) });
      if (error.children?.length) walk(error.children, field);
    }
  };
  walk(errors, prefix);
  return problems;
}
