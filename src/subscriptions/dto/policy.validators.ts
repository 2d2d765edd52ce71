import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { transformProblems } from '../../policies/payload-transform';
import { contentFilterProblems } from '../../policies/content-filter';

function problemsValidator(
  name: string,
  problemsOf: (value: unknown) => string[],
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => problemsOf(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => problemsOf(args?.value).join('; '),
      },
    });
}

/** A MongoDB-style query sift can run on the canonical event, without `$where` and friends. */
export function IsContentFilter(options?: ValidationOptions): PropertyDecorator {
  return problemsValidator('isContentFilter', contentFilterProblems, options);
}

/** A JSONata expression that compiles. */
export function IsTransform(options?: ValidationOptions): PropertyDecorator {
  return problemsValidator('isTransform', transformProblems, options);
}
